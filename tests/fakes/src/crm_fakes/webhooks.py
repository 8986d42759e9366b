"""Build and sign Messenger webhook deliveries the way Meta does."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any


def meta_json(payload: Any) -> bytes:
    """Serialise like Meta: compact, ASCII-only (lowercase `\\u0e2a` escapes), `/` as `\\/`."""
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    # "/" can only occur inside JSON strings, so escaping every one is safe.
    return text.replace("/", "\\/").encode("ascii")


def sign(app_secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value: "sha256=" + lowercase hex HMAC-SHA256 of the raw body."""
    digest = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_request(app_secret: str, payload: Any) -> tuple[bytes, dict[str, str]]:
    """Body bytes plus the headers Meta sends with them (POST them verbatim)."""
    body = meta_json(payload)
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(app_secret, body)}
    return body, headers


def new_mid() -> str:
    """A current-style Messenger message id (`m_...`)."""
    return "m_" + secrets.token_urlsafe(64)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def referral(ad_id: str, ref: str | None = None) -> dict[str, Any]:
    """Click-to-Messenger ad referral (`message.referral` / `messaging[].referral`)."""
    out: dict[str, Any] = {}
    if ref is not None:
        out["ref"] = ref
    out |= {
        "ad_id": ad_id,
        "source": "ADS",
        "type": "OPEN_THREAD",
        "ads_context_data": {
            "ad_title": f"Ad {ad_id}",
            "photo_url": f"https://scontent.xx.fbcdn.net/v/t45.1600-4/{ad_id}_n.jpg",
            "post_id": f"{ad_id}_1",
        },
    }
    return out


def text_message_event(
    page_id: str,
    psid: str,
    text: str,
    *,
    mid: str | None = None,
    timestamp_ms: int | None = None,
    referral: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One `messaging` item: a user's text message to the Page."""
    message: dict[str, Any] = {"mid": mid or new_mid(), "text": text}
    if referral is not None:
        message["referral"] = referral
    return {
        "sender": {"id": psid},
        "recipient": {"id": page_id},
        "timestamp": _now_ms() if timestamp_ms is None else timestamp_ms,
        "message": message,
    }


def referral_event(
    page_id: str, psid: str, referral: dict[str, Any], *, timestamp_ms: int | None = None
) -> dict[str, Any]:
    """One `messaging` item for `messaging_referrals` (ad click into an existing thread)."""
    return {
        "sender": {"id": psid},
        "recipient": {"id": page_id},
        "timestamp": _now_ms() if timestamp_ms is None else timestamp_ms,
        "referral": referral,
    }


def page_webhook(
    page_id: str, messaging: list[dict[str, Any]], *, time_ms: int | None = None
) -> dict[str, Any]:
    """A whole delivery: `{"object":"page","entry":[{"id","time","messaging"}]}`."""
    entry = {
        "id": page_id,
        "time": _now_ms() if time_ms is None else time_ms,
        "messaging": messaging,
    }
    return {"object": "page", "entry": [entry]}
