"""`X-Hub-Signature-256`: HMAC-SHA256 of the raw body with the App Secret, hex, `sha256=` prefix."""

from __future__ import annotations

import hashlib
import hmac


def signature_valid(app_secret: str, body: bytes, header: str | None) -> bool:
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").lower())
