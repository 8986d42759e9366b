"""PDPA: an erased customer leaves nothing in the messenger; an export shows everything it holds."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from crm_contracts import ChannelIdentity, CustomerErasureRequested, CustomerErasureRequestedData, Event
from crm_fakes import MetaState
from crm_fakes.webhooks import meta_json, page_webhook, referral, text_message_event
from crm_messenger.conversations.models import conversations
from crm_servicekit.parking import list_parked
from crm_servicekit.pdpa import find_mentions
from crm_servicekit.testing import eventually

from .conftest import PAGE_ID, Messenger, running_messenger
from .helpers import INTERNAL, item, post, publish, received, reply_to, say

pytestmark = pytest.mark.integration

PSID = "5550001112223334"
OTHER = "7770009998887776"
SILENT = "6660004445556667"  # a customer the messenger never met
TEXT_IN = "สวัสดีค่ะ ชื่อนิดนะคะ อยากเรียนซูชิ"
TEXT_LATE = "เบอร์นิด 0812345678 ค่ะ"
TEXT_STORED = "พรุ่งนี้ว่างไหมคะ"
AI_TEXT = "ยินดีต้อนรับค่ะคุณนิด"
STAFF_TEXT = "แอดมินโทรหาคุณนิดนะคะ"
OTHER_TEXT = "Is the ramen course on Sunday?"


@pytest.fixture
async def quiet_relay(
    migrated: str, rabbitmq_url: str, meta: tuple[str, MetaState]
) -> AsyncIterator[Messenger]:
    """A messenger whose outbox relay waits minutes: an event whose publish failed stays in the
    outbox for the test to see, as after a broker outage."""
    async with running_messenger(migrated, rabbitmq_url, meta, outbox_relay_interval_seconds=120) as m:
        yield m


def erasure(*psids: str, request_id: uuid.UUID | None = None) -> CustomerErasureRequested:
    return CustomerErasureRequested(
        correlation_id="erasure-test",
        data=CustomerErasureRequestedData(
            request_id=request_id or uuid.uuid4(),
            customer_id="TVS-CUS-FB-26-0042",
            identities=[
                *(ChannelIdentity(channel="messenger", page_id=PAGE_ID, external_id=p) for p in psids),
                ChannelIdentity(channel="line", external_id=psids[0] if psids else "U1"),
            ],
            requested_at=datetime.now(UTC),
        ),
    )


async def publish_event(m: Messenger, event: Event) -> None:
    await m.app.state.runtime.broker.publish(
        event.model_dump_json().encode(),
        exchange="crm.events",
        routing_key=event.type,
        message_id=str(event.event_id),
    )


async def reports(m: Messenger, request_id: uuid.UUID) -> list[dict[str, Any]]:
    return [
        e for e in m.events.of_type("customer.erasure_progress") if e["data"]["request_id"] == str(request_id)
    ]


async def report_for(m: Messenger, request_id: uuid.UUID) -> dict[str, Any]:
    [report] = await eventually(lambda: reports(m, request_id), timeout=15)
    return report


async def mentions(m: Messenger, *needles: str) -> dict[str, int]:
    async with m.app.state.runtime.sessionmaker() as session:
        return await find_mentions(session, "messenger", needles)


async def staff_reply(m: Messenger, conversation_id: str, text: str) -> None:
    response = await m.http.post(
        f"/internal/v1/conversations/{conversation_id}/messages",
        json={"text": text, "staff_id": str(uuid.uuid4())},
        headers=INTERNAL,
    )
    assert response.status_code == 202, response.text


async def profile_fetched(m: Messenger, psid: str) -> list[dict[str, Any]]:
    return [e for e in m.events.of_type("contact.profile_updated") if e["data"]["psid"] == psid]


async def chat_with_an_ad_reply_reaction_optin_and_staff(m: Messenger, psid: str) -> dict[str, Any]:
    """What a customer leaves behind in ordinary use; returns their first `message.received`."""
    first = text_message_event(PAGE_ID, psid, TEXT_IN, referral=referral("ad-pdpa-1", ref="sushi-june"))
    await post(m, first)
    got = await received(m, first["message"]["mid"])
    await publish(m, reply_to(got, AI_TEXT))
    await eventually(lambda: _sent(m, AI_TEXT))
    mid = first["message"]["mid"]
    await post(
        m, item(psid, reaction={"reaction": "love", "emoji": "\u2764\ufe0f", "action": "react", "mid": mid})
    )
    await post(m, item(psid, optin={"type": "notification_messages", "payload": "PROMO", "title": "Deals"}))
    # Meta sent something we cannot apply: it is quarantined, with the PSID in it.
    assert (await post(m, item(psid, reaction={"action": "wiggle", "mid": mid})))["quarantined"] == 1
    await staff_reply(m, got["data"]["conversation_id"], STAFF_TEXT)
    await eventually(lambda: _sent(m, STAFF_TEXT))
    await eventually(lambda: profile_fetched(m, psid), timeout=10)
    return got


async def _sent(m: Messenger, text: str) -> bool:
    return text in m.meta.texts()


async def park_unreadable_replies(m: Messenger, *psids: str) -> None:
    """Replies that cannot be parsed are parked at once, with the PSID and text in them."""
    runtime = m.app.state.runtime
    for psid in psids:
        body = {
            "type": "reply.generated",
            "event_id": str(uuid.uuid4()),
            "data": {"psid": psid, "text": "hi"},
        }
        await runtime.broker.publish(body, exchange="crm.events", routing_key="reply.generated")

    async def parked() -> list[Any]:
        found = await list_parked(m.settings.rabbitmq_url, "messenger.replies")
        return found if len(found) >= len(psids) else []

    await eventually(parked, timeout=15)


async def test_erasure_leaves_nothing_of_the_customer_and_reports_once(
    quiet_relay: Messenger, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = quiet_relay
    runtime = m.app.state.runtime
    await chat_with_an_ad_reply_reaction_optin_and_staff(m, PSID)
    await say(m, OTHER, OTHER_TEXT)
    await eventually(lambda: profile_fetched(m, OTHER), timeout=10)
    await park_unreadable_replies(m, PSID, OTHER)

    # The broker is down while both write again: the events wait in the outbox.
    async def broker_down(*_: object) -> None:
        raise ConnectionError("broker unavailable")

    monkeypatch.setattr(runtime.outbox, "send", broker_down)
    await post(m, text_message_event(PAGE_ID, PSID, TEXT_LATE), text_message_event(PAGE_ID, OTHER, "later"))
    monkeypatch.undo()
    # A webhook with both customers' messages is stored but not processed yet.
    processor = runtime.extras["webhook_processor"]
    await processor.stop()
    stored = [text_message_event(PAGE_ID, PSID, TEXT_STORED), text_message_event(PAGE_ID, OTHER, "stored")]
    await runtime.extras["webhook_store"].store(meta_json(page_webhook(PAGE_ID, stored)).decode())

    personal = (PSID, TEXT_IN, TEXT_LATE, TEXT_STORED, AI_TEXT, STAFF_TEXT)
    before = await mentions(m, *personal)
    assert {k.split(".")[0] for k in before} >= {
        "conversations", "messages", "referrals", "reactions", "optins",
        "quarantined_events", "webhook_inbox", "outbox",
    }  # fmt: skip
    others_before = await mentions(m, OTHER, OTHER_TEXT)

    request = erasure(PSID)
    await publish_event(m, request)
    report = await report_for(m, request.data.request_id)

    assert report["producer"] == "messenger"
    assert report["data"]["service"] == "messenger"
    assert report["data"]["status"] == "completed"
    erased = report["data"]["erased"]
    assert erased == {
        "conversations": 1,
        "messages": 4,  # two from the customer, the AI's reply and the staff reply
        "reactions": 1,
        "referrals": 1,
        "optins": 1,
        "quarantined_events": 1,
        "webhook_items": 1,
        "outbox_events": 1,
        "parked_messages": 1,
    }
    assert await mentions(m, *personal) == {}, "no column of any table mentions the customer"
    assert await mentions(m, OTHER, OTHER_TEXT) == others_before, "the other customer is untouched"
    [left] = await list_parked(m.settings.rabbitmq_url, "messenger.replies")
    assert left.event_type == "reply.generated"
    response = await m.http.post(
        "/internal/v1/pdpa/export",
        json={"identities": [{"channel": "messenger", "page_id": PAGE_ID, "external_id": PSID}]},
        headers=INTERNAL,
    )
    assert response.json()["conversations"] == []

    # Redelivered, and sent again under a new event id: nothing more happens, no second report.
    await publish_event(m, request)
    again = CustomerErasureRequested(correlation_id="again", data=request.data)
    await publish_event(m, again)
    sentinel = erasure(SILENT)
    await publish_event(m, sentinel)
    quiet = await report_for(m, sentinel.data.request_id)
    assert set(quiet["data"]["erased"].values()) == {0}, "a customer never met: nothing to erase"
    assert len(await reports(m, request.data.request_id)) == 1

    # The stored webhook goes on without the erased customer's message.
    await processor.start()
    await eventually(lambda: _message_from(m, OTHER, "stored"), timeout=10)
    async with runtime.sessionmaker() as session:
        count = select(func.count()).select_from(conversations).where(conversations.c.psid == PSID)
        assert (await session.execute(count)).scalar() == 0


async def _message_from(m: Messenger, psid: str, text: str) -> bool:
    return any(
        e["data"]["psid"] == psid and e["data"]["text"] == text for e in m.events.of_type("message.received")
    )


async def test_export_returns_the_conversation_with_every_message_and_the_ad(messenger: Messenger) -> None:
    psid = "4440001112223338"
    await chat_with_an_ad_reply_reaction_optin_and_staff(messenger, psid)
    await say(messenger, "4449990001112227", "someone else")
    identities = [
        {"channel": "messenger", "page_id": PAGE_ID, "external_id": psid},
        {"channel": "line", "external_id": "U4440001112223338"},
    ]
    response = await messenger.http.post(
        "/internal/v1/pdpa/export", json={"identities": identities}, headers=INTERNAL
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["service"] == "messenger"
    [conversation] = body["conversations"]
    assert (conversation["page_id"], conversation["psid"]) == (PAGE_ID, psid)
    assert (conversation["first_name"], conversation["last_name"]) == ("Customer", psid[-4:])
    assert conversation["mode"] == "human", "staff took over"
    texts = [(m["direction"], m["text"]) for m in conversation["messages"]]
    assert texts == [("in", TEXT_IN), ("out", AI_TEXT), ("out", STAFF_TEXT)]
    assert [r["reaction"] for r in conversation["messages"][0]["reactions"]] == ["love"]
    assert all(m["status"] and m["created_at"] for m in conversation["messages"])
    [ad] = conversation["referrals"]
    assert (ad["ad_id"], ad["ref"]) == ("ad-pdpa-1", "sushi-june")
    assert [o["payload"]["optin"]["payload"] for o in conversation["optins"]] == ["PROMO"]
    assert [q["kind"] for q in body["quarantined"]] == ["reaction"]


async def test_export_needs_the_service_token(messenger: Messenger) -> None:
    body = {"identities": [{"channel": "messenger", "page_id": PAGE_ID, "external_id": PSID}]}
    for headers in ({}, {"X-Internal-Token": "wrong"}):
        response = await messenger.http.post("/internal/v1/pdpa/export", json=body, headers=headers)
        assert response.status_code == 401
