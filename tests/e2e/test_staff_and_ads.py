"""Issue 3 across real processes: ad attribution reaches the customer, staff take over a chat
through the gateway, and a reply typed in the Page inbox silences the AI."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from crm_fakes.webhooks import meta_json, new_mid, page_webhook, referral, text_message_event
from crm_servicekit.testing import EventRecorder, eventually

from .conftest import PAGE_ID, System, customer_for, post_webhook, replies_to, reply_requests, staff_token

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


async def write(system: System, psid: str, text: str, **extra: Any) -> None:
    event = text_message_event(PAGE_ID, psid, text, **extra)
    assert (await post_webhook(system, meta_json(page_webhook(PAGE_ID, [event])))).status_code == 200


async def test_the_ads_that_brought_a_customer_reach_the_customer_record(system: System) -> None:
    await write(system, "psid-ad-1", "สนใจคอร์สซูชิค่ะ", referral=referral("120330000000000101", ref="sushi"))

    async def first_touch() -> dict[str, Any] | None:
        customer = await customer_for(system, "psid-ad-1")
        return customer if customer and customer["first_touch"] else None

    customer = await eventually(first_touch, timeout=30)
    assert customer["first_touch"]["ad_id"] == "120330000000000101"
    assert customer["latest_touch"]["ad_id"] == "120330000000000101"

    # Later the same person clicks another click-to-Messenger ad (a messaging_referrals event).
    again = {
        "sender": {"id": "psid-ad-1"},
        "recipient": {"id": PAGE_ID},
        "timestamp": int(time.time() * 1000),
        "referral": referral("120330000000000202", ref="ramen"),
    }
    assert (await post_webhook(system, meta_json(page_webhook(PAGE_ID, [again])))).status_code == 200

    async def latest_touch() -> dict[str, Any] | None:
        customer = await customer_for(system, "psid-ad-1")
        if customer is None or customer["served_from"] != "cache":
            return None
        return customer if (customer["latest_touch"] or {}).get("ad_id") == "120330000000000202" else None

    customer = await eventually(latest_touch, timeout=30)
    assert customer["first_touch"]["ad_id"] == "120330000000000101", "first touch never changes"

    # The Messenger profile (fetched in the background) names the customer.
    async def named() -> dict[str, Any] | None:
        customer = await customer_for(system, "psid-ad-1")
        return customer if customer and customer["display_name"] else None

    assert (await eventually(named, timeout=30))["display_name"]


async def test_staff_take_over_a_chat_through_the_gateway(system: System) -> None:
    await write(system, "psid-staff-e2e", "How much is the ramen course?")
    await eventually(lambda: replies_to(system, "psid-staff-e2e"), timeout=30)
    headers = await staff_token(system)
    async with httpx.AsyncClient(base_url=system.stack.url("gateway"), headers=headers) as http:
        listed = (await http.get("/api/v1/conversations", params={"limit": 200})).json()
        [conversation] = [c for c in listed["items"] if c["psid"] == "psid-staff-e2e"]
        assert conversation["mode"] == "ai"
        reply = await http.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            json={"text": "สวัสดีค่ะ แอดมินมาตอบเองค่ะ"},
            headers={"Idempotency-Key": "e2e-staff-1"},
        )
        assert reply.status_code == 202, reply.text
        texts = await eventually(lambda: _count(system, "psid-staff-e2e", 2), timeout=30)
        assert texts[-1] == "สวัสดีค่ะ แอดมินมาตอบเองค่ะ"
        detail = (await http.get(f"/api/v1/conversations/{conversation['id']}")).json()
        assert detail["conversation"]["mode"] == "human"
        assert [m["sent_by"] for m in detail["messages"]] == ["customer", "ai", "staff"]
    [staff_send] = [m for m in system.meta.messages() if m.text == "สวัสดีค่ะ แอดมินมาตอบเองค่ะ"]
    assert staff_send.body["messaging_type"] == "RESPONSE"
    await _ai_stays_quiet(system, "psid-staff-e2e", answered=2)


async def test_a_reply_typed_in_the_page_inbox_silences_the_ai(system: System) -> None:
    await write(system, "psid-inbox-e2e", "มีคอร์สวันเสาร์ไหมคะ")
    await eventually(lambda: replies_to(system, "psid-inbox-e2e"), timeout=30)
    echo = {
        "sender": {"id": PAGE_ID},
        "recipient": {"id": "psid-inbox-e2e"},
        "timestamp": int(time.time() * 1000),
        "message": {
            "is_echo": True,
            "app_id": 263902037430900,
            "mid": new_mid(),
            "text": "มีค่ะ เดี๋ยวแอดมินส่งตารางให้นะคะ",
        },
    }
    assert (await post_webhook(system, meta_json(page_webhook(PAGE_ID, [echo])))).status_code == 200
    await _ai_stays_quiet(system, "psid-inbox-e2e", answered=1)


async def _count(system: System, psid: str, n: int) -> list[str]:
    texts = await replies_to(system, psid)
    return texts if len(texts) >= n else []


async def _ai_stays_quiet(system: System, psid: str, *, answered: int) -> None:
    """The customer writes again: the messenger tells the AI that staff answer, and no reply
    comes, while another customer's message, written after it, is answered."""
    async with EventRecorder(system.rabbitmq_url) as events:
        await write(system, psid, "ขอบคุณค่ะ แล้วราคาเท่าไหร่คะ")
        [received] = await events.wait_for("message.received")
        assert received["data"]["conversation_mode"] == "human"
        sentinel = f"{psid}-sentinel"
        await write(system, sentinel, "Hello!")
        await eventually(lambda: replies_to(system, sentinel), timeout=30)
    assert len(await replies_to(system, psid)) == answered


# A question the school's knowledge answers (one it cannot would go to staff without the model).
QUESTION = "คอร์สซูชิราคาเท่าไหร่คะ ข้อ"


async def test_a_shuffled_batch_with_duplicates_gets_one_reply_per_message(system: System) -> None:
    """Meta batches items, retries POSTs and reorders them: each message is stored and answered once."""
    import random

    base = int(time.time() * 1000) - 30_000
    originals = [
        text_message_event(PAGE_ID, "psid-shuffle", f"{QUESTION} {i}", timestamp_ms=base + i * 1000)
        for i in range(10)
    ]
    rng = random.Random(3)
    batch = originals + rng.sample(originals, 3)  # 30 % duplicates
    rng.shuffle(batch)
    async with EventRecorder(system.rabbitmq_url) as events:
        for chunk in (batch[:5], batch[5:9], batch[9:], batch[:5]):  # the first POST is retried too
            body = meta_json(page_webhook(PAGE_ID, chunk))
            assert (await post_webhook(system, body)).status_code == 200
        texts = await eventually(lambda: _count(system, "psid-shuffle", 10), timeout=60)
        received = await events.wait_for("message.received", count=10)
        # a later customer's message is answered after every duplicate was handled
        await write(system, "psid-shuffle-sentinel", "Hello?")
        await eventually(lambda: replies_to(system, "psid-shuffle-sentinel"), timeout=30)
    mine = [e for e in received if e["data"]["psid"] == "psid-shuffle"]
    assert sorted(e["data"]["text"] for e in mine) == sorted(f"{QUESTION} {i}" for i in range(10))
    assert len({e["data"]["mid"] for e in mine}) == len(mine) == 10, "each message announced once"
    assert len(await replies_to(system, "psid-shuffle")) == len(texts) == 10, "one reply per message"
    asked = [
        r
        for r in reply_requests(system)
        if QUESTION in json.dumps(r.body["contents"][-1], ensure_ascii=False)
    ]
    assert len(asked) == 10
