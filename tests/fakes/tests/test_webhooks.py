from __future__ import annotations

import hashlib
import hmac
import json
import re

from crm_fakes.webhooks import (
    meta_json,
    page_webhook,
    referral,
    sign,
    signed_request,
    text_message_event,
)


def test_meta_json_escapes_like_meta() -> None:
    payload = {"text": "สวัสดี äöå", "url": "https://www.facebook.com/commerce/update/"}
    body = meta_json(payload)
    text = body.decode("ascii")
    assert "\\u0e2a\\u0e27" in text
    assert "\\u00e4\\u00f6\\u00e5" in text
    assert not re.search(r"\\u[0-9a-f]*[A-F]", text)
    assert '"https:\\/\\/www.facebook.com\\/commerce\\/update\\/"' in text
    assert '": ' not in text
    assert '", ' not in text
    assert json.loads(body) == payload


def test_signature_is_hmac_over_exact_bytes() -> None:
    body = meta_json({"object": "page", "text": "ทดสอบ", "u": "a/b"})
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert sign("s3cret", body) == f"sha256={expected}"
    reencoded = json.dumps(json.loads(body)).encode()
    assert sign("s3cret", reencoded) != sign("s3cret", body)


def test_builders_produce_meta_shapes() -> None:
    event = text_message_event(
        "PAGE", "PSID", "hi", mid="m_1", timestamp_ms=1, referral=referral("AD1", ref="r")
    )
    hook = page_webhook("PAGE", [event], time_ms=2)
    assert hook == {
        "object": "page",
        "entry": [
            {
                "id": "PAGE",
                "time": 2,
                "messaging": [
                    {
                        "sender": {"id": "PSID"},
                        "recipient": {"id": "PAGE"},
                        "timestamp": 1,
                        "message": {
                            "mid": "m_1",
                            "text": "hi",
                            "referral": {
                                "ref": "r",
                                "ad_id": "AD1",
                                "source": "ADS",
                                "type": "OPEN_THREAD",
                                "ads_context_data": hook["entry"][0]["messaging"][0]["message"]["referral"][
                                    "ads_context_data"
                                ],
                            },
                        },
                    }
                ],
            }
        ],
    }
    assert "ref" not in referral("AD2")
    auto = text_message_event("PAGE", "PSID", "hi")
    assert auto["message"]["mid"].startswith("m_")
    assert isinstance(auto["timestamp"], int)


def test_signed_request_headers_match_body() -> None:
    body, headers = signed_request("k", page_webhook("P", [text_message_event("P", "U", "ไทย")]))
    assert headers["X-Hub-Signature-256"] == sign("k", body)
    assert headers["Content-Type"] == "application/json"
    body.decode("ascii")
