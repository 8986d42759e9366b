"""What Meta and the staff see when Meta posts to our webhook."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from crm_fakes.webhooks import meta_json, page_webhook, referral, sign, text_message_event
from crm_messenger.conversations.models import messages
from crm_messenger.webhooks.models import quarantined_events

from .conftest import APP_SECRET, PAGE_ID, VERIFY_TOKEN, Messenger

pytestmark = pytest.mark.integration

THAI = "สวัสดีค่ะ อยากสมัครคอร์สซูชิ ราคาเท่าไหร่คะ 🍣"


async def count(m: Messenger, table=messages) -> int:  # type: ignore[no-untyped-def]
    runtime = m.app.state.runtime
    async with runtime.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def post(m: Messenger, body: bytes, signature: str | None) -> int:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["x-hub-signature-256"] = signature
    response = await m.http.post("/webhooks/meta", content=body, headers=headers)
    if response.status_code == 200:
        # Stored before the 200; wait until the processor has applied it.
        processor = m.app.state.runtime.extras["webhook_processor"]
        await processor.result(int(response.headers["x-webhook-receipt"]))
    return response.status_code


async def test_handshake_echoes_the_challenge_only_for_our_verify_token(messenger: Messenger) -> None:
    ok = await messenger.http.get(
        "/webhooks/meta",
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    wrong = await messenger.http.get(
        "/webhooks/meta",
        params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1158201444"},
    )
    assert wrong.status_code == 403


async def test_wrong_or_missing_signature_is_refused_and_nothing_is_stored(messenger: Messenger) -> None:
    before = await count(messenger)
    body = meta_json(page_webhook(PAGE_ID, [text_message_event(PAGE_ID, "psid-1", THAI)]))
    assert await post(messenger, body, None) == 403
    assert await post(messenger, body, sign("another-secret", body)) == 403
    assert await post(messenger, body, "sha256=" + "0" * 64) == 403
    # The signature covers Meta's escaped bytes: a re-encoded body does not verify.
    reencoded = json.dumps(json.loads(body), ensure_ascii=False).encode()
    assert await post(messenger, reencoded, sign(APP_SECRET, body)) == 403
    assert await count(messenger) == before
    assert messenger.events.of_type("message.received") == []


async def test_body_that_is_not_json_gets_400_and_oversized_body_gets_413(messenger: Messenger) -> None:
    before = await count(messenger)
    junk = b"this is not json"
    assert await post(messenger, junk, sign(APP_SECRET, junk)) == 400
    huge = b"{" + b" " * (messenger.settings.webhook_max_body_bytes + 1) + b"}"
    assert await post(messenger, huge, sign(APP_SECRET, huge)) == 413
    assert await count(messenger) == before


async def test_thai_message_is_stored_once_and_announced_once_however_often_meta_retries(
    messenger: Messenger,
) -> None:
    event = text_message_event(PAGE_ID, "psid-thai", THAI, referral=referral("ad-777", ref="sushi"))
    body = meta_json(page_webhook(PAGE_ID, [event]))
    assert body.isascii(), "Meta escapes non-ASCII; the fixture must too"
    assert b"\\u0e2a" in body
    for _ in range(3):
        assert await post(messenger, body, sign(APP_SECRET, body)) == 200

    [received] = await messenger.events.wait_for("message.received")
    [contact] = await messenger.events.wait_for("contact.seen")
    assert received["data"]["text"] == THAI
    assert received["data"]["mid"] == event["message"]["mid"]
    assert received["data"]["conversation_mode"] == "ai"
    assert contact["data"]["psid"] == "psid-thai"
    assert contact["data"]["referral"]["ad_id"] == "ad-777"
    runtime = messenger.app.state.runtime
    async with runtime.sessionmaker() as session:
        stored = (
            (await session.execute(select(messages.c.text).where(messages.c.mid == event["message"]["mid"])))
            .scalars()
            .all()
        )
    assert stored == [THAI]


async def test_batch_of_entries_is_applied_in_timestamp_order(messenger: Messenger) -> None:
    first = text_message_event(PAGE_ID, "psid-order", "one", timestamp_ms=1_700_000_000_000)
    second = text_message_event(PAGE_ID, "psid-order", "two", timestamp_ms=1_700_000_001_000)
    payload = page_webhook(PAGE_ID, [second])
    payload["entry"].append(page_webhook(PAGE_ID, [first])["entry"][0])
    body = meta_json(payload)
    assert await post(messenger, body, sign(APP_SECRET, body)) == 200
    got = await messenger.events.wait_for("message.received", count=2)
    texts = [e["data"]["text"] for e in got if e["data"]["psid"] == "psid-order"]
    assert texts == ["one", "two"]


async def test_event_we_do_not_handle_is_kept_in_quarantine_not_dropped(messenger: Messenger) -> None:
    before = await count(messenger, quarantined_events)
    odd = {"sender": {"id": "psid-q"}, "recipient": {"id": PAGE_ID}, "timestamp": 1, "something_new": {}}
    body = meta_json(page_webhook(PAGE_ID, [odd]))
    assert await post(messenger, body, sign(APP_SECRET, body)) == 200
    assert await count(messenger, quarantined_events) == before + 1


async def test_text_postgresql_cannot_store_is_cleaned_out_and_the_message_still_kept(
    messenger: Messenger,
) -> None:
    """Meta may deliver a NUL (`\\u0000`, refused by `jsonb` and `text`) or half of a surrogate
    pair (not UTF-8): the webhook still gets its 200 and the message is stored without them."""
    nul = text_message_event(PAGE_ID, "psid-nul", "abc\x00def 🍣")
    lone = text_message_event(PAGE_ID, "psid-surrogate", "half \ud83c of a pair")
    body = meta_json(page_webhook(PAGE_ID, [nul, lone]))
    assert b"\\u0000" in body
    assert b"\\ud83c of" in body

    assert await post(messenger, body, sign(APP_SECRET, body)) == 200

    got = await messenger.events.wait_for("message.received", count=2)
    texts = {e["data"]["psid"]: e["data"]["text"] for e in got if e["data"]["psid"].startswith("psid-")}
    assert texts["psid-nul"] == "abcdef 🍣"
    assert texts["psid-surrogate"] == "half \ufffd of a pair"
    runtime = messenger.app.state.runtime
    mids = [nul["message"]["mid"], lone["message"]["mid"]]
    async with runtime.sessionmaker() as session:
        stored = (await session.execute(select(messages.c.text).where(messages.c.mid.in_(mids)))).scalars()
        assert sorted(stored) == ["abcdef 🍣", "half \ufffd of a pair"]
