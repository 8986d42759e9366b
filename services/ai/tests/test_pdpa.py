"""PDPA in the ai service: an erased customer's replies are gone everywhere; an export shows them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text

from crm_ai.app import create_app
from crm_ai.config import AiSettings
from crm_contracts import (
    ChannelIdentity,
    CustomerErasureRequested,
    CustomerErasureRequestedData,
    Event,
    MessageReceived,
    MessageReceivedData,
    ProductChanged,
    ProductChangedData,
)
from crm_fakes import FakeServer, GeminiState, create_gemini_app
from crm_servicekit.migrations import upgrade
from crm_servicekit.parking import list_parked
from crm_servicekit.pdpa import find_mentions
from crm_servicekit.settings import ServiceSettings
from crm_servicekit.testing import EventRecorder, eventually

pytestmark = pytest.mark.integration

KEY = "test-gemini-key"
TOKEN = {"X-Internal-Token": "test-internal-token"}
PSID = "5550001112223334"
OTHER = "7770009998887776"
ASKED = "คอร์สซูชิราคาเท่าไหร่คะ"
ANSWER = "คุณนิดคะ คอร์สซูชิเริ่มเดือนหน้าค่ะ"
LATE_ANSWER = "คุณนิดคะ เจ้าหน้าที่จะโทรกลับค่ะ"
OTHER_ANSWER = "The ramen course is on Sunday."


@pytest.fixture(scope="module")
def gemini() -> Iterator[tuple[str, GeminiState]]:
    state = GeminiState(api_key=KEY)
    with FakeServer(create_gemini_app(state)) as server:
        yield server.url, state


@dataclass
class Ai:
    app: FastAPI
    http: httpx.AsyncClient
    events: EventRecorder
    gemini: GeminiState
    rabbitmq_url: str


@pytest.fixture
async def ai(database_url: str, rabbitmq_url: str, gemini: tuple[str, GeminiState]) -> AsyncIterator[Ai]:
    url, state = gemini
    state.reset()
    await asyncio.to_thread(upgrade, "crm_ai", ServiceSettings(database_url=database_url).async_database_url)
    settings = AiSettings(
        database_url=database_url,
        rabbitmq_url=rabbitmq_url,
        gemini_api_key=SecretStr(KEY),
        google_gemini_base_url=url,
        crm_internal_token=SecretStr("test-internal-token"),
        # Events whose publish failed stay in the outbox for the test to see.
        outbox_relay_interval_seconds=120,
    )
    app = create_app(settings)
    async with (
        EventRecorder(rabbitmq_url) as events,
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ai") as http,
    ):
        ai = Ai(app, http, events, state, rabbitmq_url)
        # Replies stand on the catalog: the courses these customers ask about are sold.
        await sells(ai, ("คอร์สซูชิ", "Sushi course"), ("คอร์สราเมง", "Ramen course"))
        yield ai


async def sells(ai: Ai, *names: tuple[str, str]) -> None:
    """The gateway publishes these courses; returns once the ai's catalog has them."""
    for name_th, name_en in names:
        event = ProductChanged(
            correlation_id="catalog",
            data=ProductChangedData(
                product_id=uuid.uuid5(uuid.NAMESPACE_URL, name_en),
                kind="course",
                name_th=name_th,
                name_en=name_en,
                price=Decimal("12900"),
                active=True,
                changed_at=datetime.now(UTC),
            ),
        )
        await publish(ai, event)

        async def handled(event: ProductChanged = event) -> bool:
            async with ai.app.state.runtime.uow() as uow:
                return bool(await uow.handled(event.event_id, "ai.catalog"))

        await eventually(handled, timeout=15)


async def publish(ai: Ai, event: Event | dict[str, Any]) -> None:
    body: bytes | dict[str, Any]
    if isinstance(event, Event):
        body, message_id = event.model_dump_json().encode(), str(event.event_id)
    else:
        body, message_id = event, str(uuid.uuid4())
    routing_key = event.type if isinstance(event, Event) else str(event["type"])
    await ai.app.state.runtime.broker.publish(
        body, exchange="crm.events", routing_key=routing_key, message_id=message_id
    )


def message(psid: str, conversation_id: uuid.UUID, text: str = ASKED) -> MessageReceived:
    mid = f"m_{uuid.uuid4().hex}"
    return MessageReceived(
        correlation_id=mid,
        data=MessageReceivedData(
            message_id=uuid.uuid4(),
            conversation_id=conversation_id,
            page_id="111222333",
            psid=psid,
            mid=mid,
            text=text,
            sent_at=datetime.now(UTC),
            conversation_mode="ai",
        ),
    )


async def answered(ai: Ai, event: MessageReceived, reply: str) -> None:
    """The customer writes and the model answers `reply` (a reply the ai stores)."""
    ai.gemini.queue_reply(reply)
    await publish(ai, event)

    async def stored() -> dict[str, int]:
        async with ai.app.state.runtime.sessionmaker() as session:
            return await find_mentions(session, "ai", [reply])

    await eventually(stored, timeout=15)


def erasure(psid: str, request_id: uuid.UUID | None = None) -> CustomerErasureRequested:
    return CustomerErasureRequested(
        correlation_id="erasure-test",
        data=CustomerErasureRequestedData(
            request_id=request_id or uuid.uuid4(),
            customer_id="TVS-CUS-FB-26-0042",
            identities=[
                ChannelIdentity(channel="messenger", page_id="111222333", external_id=psid),
                ChannelIdentity(channel="line", external_id="U5550001112223334"),
            ],
            requested_at=datetime.now(UTC),
        ),
    )


async def reports(ai: Ai, request_id: uuid.UUID) -> list[dict[str, Any]]:
    found = ai.events.of_type("customer.erasure_progress")
    return [e for e in found if e["data"]["request_id"] == str(request_id)]


async def mentions(ai: Ai, *needles: str) -> dict[str, int]:
    async with ai.app.state.runtime.sessionmaker() as session:
        return await find_mentions(session, "ai", needles)


async def export(ai: Ai, psid: str, headers: dict[str, str] = TOKEN) -> httpx.Response:
    identities = [{"channel": "messenger", "page_id": "111222333", "external_id": psid}]
    return await ai.http.post("/internal/v1/pdpa/export", json={"identities": identities}, headers=headers)


async def test_erasure_deletes_the_customers_replies_everywhere_and_reports_once(
    ai: Ai, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = ai.app.state.runtime
    conversation, other_conversation = uuid.uuid4(), uuid.uuid4()
    await answered(ai, message(PSID, conversation), ANSWER)
    await answered(ai, message(OTHER, other_conversation, "Is the ramen course on Sunday?"), OTHER_ANSWER)
    await ai.events.wait_for("reply.generated", count=2)

    # The broker is down when the next reply is composed: it waits in the outbox.
    tried = asyncio.Event()

    async def broker_down(*_: object) -> None:
        tried.set()
        raise ConnectionError("broker unavailable")

    monkeypatch.setattr(runtime.outbox, "send", broker_down)
    await answered(ai, message(PSID, conversation, "โทรหาได้ไหมคะ"), LATE_ANSWER)
    await asyncio.wait_for(tried.wait(), 10)
    monkeypatch.undo()
    # Messages nobody can read are parked, with the PSID in them.
    for psid in (PSID, OTHER):
        await publish(ai, {"type": "message.received", "event_id": str(uuid.uuid4()), "data": {"psid": psid}})

    async def parked() -> list[Any]:
        # Parked by the replies' queue and by the leads' queue (both read message.received).
        found = [m for q in ("ai.messages", "ai.leads") for m in await list_parked(ai.rabbitmq_url, q)]
        return found if len(found) == 4 else []

    await eventually(parked, timeout=15)
    tables = {k.split(".")[0] for k in await mentions(ai, PSID, ANSWER, LATE_ANSWER)}
    assert tables == {"replies", "outbox", "lead_scores", "conversation_turns"}
    exported = (await export(ai, PSID)).json()
    assert [r["text"] for r in exported["replies"]] == [ANSWER, LATE_ANSWER]
    others_before = await mentions(ai, OTHER, OTHER_ANSWER)

    request = erasure(PSID)
    await publish(ai, request)
    [report] = await eventually(lambda: reports(ai, request.data.request_id), timeout=15)

    assert report["producer"] == "ai"
    assert (report["data"]["service"], report["data"]["status"]) == ("ai", "completed")
    erased = report["data"]["erased"]
    # The lead's `lead.scored` for the late message is in the outbox too if it was committed
    # while the broker was down (the leads' queue runs alongside the replies').
    assert erased.pop("outbox_events") in (1, 2)
    assert erased == {
        "replies": 2,
        "reply_sources": 0,
        "turns": 2,
        "suggestions": 0,
        "lead_scores": 1,
        "customer_insights": 0,
        "parked_messages": 2,
    }
    assert await mentions(ai, PSID, ANSWER, LATE_ANSWER, str(conversation)) == {}
    assert await mentions(ai, OTHER, OTHER_ANSWER) == others_before != {}
    [left] = await list_parked(ai.rabbitmq_url, "ai.messages")
    assert left.event_type == "message.received"
    assert (await export(ai, PSID)).json() == {
        "service": "ai",
        "replies": [],
        "turns": [],
        "suggestions": [],
        "lead_scores": [],
        "customer_insights": [],
    }

    # Redelivered, and re-sent under a new event id: no second effect, no second report.
    await publish(ai, request)
    await publish(ai, CustomerErasureRequested(correlation_id="again", data=request.data))
    sentinel = erasure("6660004445556667")
    await publish(ai, sentinel)
    [quiet] = await eventually(lambda: reports(ai, sentinel.data.request_id), timeout=15)
    assert quiet["data"]["erased"] == {
        "replies": 0,
        "reply_sources": 0,
        "turns": 0,
        "suggestions": 0,
        "lead_scores": 0,
        "customer_insights": 0,
        "outbox_events": 0,
        "parked_messages": 0,
    }
    assert len(await reports(ai, request.data.request_id)) == 1


async def test_export_lists_every_reply_and_needs_the_service_token(ai: Ai) -> None:
    conversation = uuid.uuid4()
    await answered(ai, message("4440001112223338", conversation), ANSWER)
    body = (await export(ai, "4440001112223338")).json()
    assert body["service"] == "ai"
    [reply] = body["replies"]
    assert (reply["text"], reply["conversation_id"], reply["generated_by"]) == (
        ANSWER,
        str(conversation),
        "gemini",
    )
    assert reply["language"] == "th"
    for headers in ({}, {"X-Internal-Token": "wrong"}):
        assert (await export(ai, "4440001112223338", headers)).status_code == 401


async def test_erasure_deletes_the_customers_lead_score_and_insights_and_export_shows_them(ai: Ai) -> None:
    user, conversation = "3330001112223335", uuid.uuid4()
    await publish(ai, message(user, conversation, "คอร์สซูชิผ่อนได้ไหมคะ"))
    await ai.events.wait_for("lead.scored")
    runtime = ai.app.state.runtime
    async with runtime.sessionmaker() as session:
        # Half an hour without a message: the quiet conversation gets its insights.
        await session.execute(
            text("UPDATE ai.lead_scores SET last_message_at = now() - interval '31 minutes' WHERE psid = :p"),
            {"p": user},
        )
        await session.commit()
    await runtime.extras["leads"].quiet_insights()
    await ai.events.wait_for("customer.insights_updated")
    exported = (await export(ai, user)).json()
    [lead] = exported["lead_scores"]
    [insights] = exported["customer_insights"]
    assert (lead["psid"], lead["message_count"]) == (user, 1)
    assert "asked_installments" in lead["signals"]
    assert insights["conversation_id"] == str(conversation)
    assert insights["summary"]

    def leads_tables(found: dict[str, int]) -> set[str]:
        return {k.split(".")[0] for k in found} & {"lead_scores", "customer_insights"}

    assert leads_tables(await mentions(ai, user)) == {"lead_scores", "customer_insights"}, (
        "the scan sees them"
    )
    request = erasure(user)
    await publish(ai, request)
    [report] = await eventually(lambda: reports(ai, request.data.request_id), timeout=15)
    assert (report["data"]["erased"]["lead_scores"], report["data"]["erased"]["customer_insights"]) == (1, 1)
    assert leads_tables(await mentions(ai, user, str(conversation))) == set()
    exported = (await export(ai, user)).json()
    assert (exported["lead_scores"], exported["customer_insights"]) == ([], [])
