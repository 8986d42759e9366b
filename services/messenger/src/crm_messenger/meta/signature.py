"""`X-Hub-Signature-256`: HMAC-SHA256 of the raw body with the App Secret, hex, `sha256=` prefix."""

from __future__ import annotations

import hashlib
import hmac

from crm_servicekit.internal import secret_matches


def signature_valid(app_secret: str, body: bytes, header: str | None) -> bool:
    """Compared as bytes (`secret_matches`): a header with non-ASCII characters is a wrong
    signature, not a 500."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return secret_matches(header.removeprefix("sha256=").lower(), expected)
