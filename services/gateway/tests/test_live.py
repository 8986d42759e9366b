"""The live stream a browser keeps open (`GET /api/v1/live`): events from `crm.events` arrive as
changes carrying ids and flags only, a reconnection resumes after its last id without losing or
repeating anything, and a cursor this replica cannot resume gets `reset` (refetch)."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator, Collection
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from crm_contracts import MessageReceived, MessageReceivedData, OrderStatusChanged
from crm_gateway.live.feed import Feed
from crm_gateway.live.hub import RESET, Hub
from crm_servicekit.testing import eventually, publish_events, publish_to

from .test_leads import MakeContact, insights, new_customer, scored

pytestmark = pytest.mark.integration

THAI = "สวัสดีค่ะ เบอร์ 081-234-5678"


@pytest.fixture(scope="module")
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The gateway on a real socket (the in-process transport does not stream)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await eventually(lambda: asyncio.sleep(0, server.started))
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    await task


def a_message(conversation_id: uuid.UUID) -> MessageReceived:
    return MessageReceived(
        correlation_id="live-test",
        data=MessageReceivedData(
            message_id=uuid.uuid4(),
            conversation_id=conversation_id,
            page_id="111",
            psid="psid-live",
            mid=f"m_{uuid.uuid4().hex}",
            text=THAI,
            sent_at=datetime.now(UTC),
            conversation_mode="ai",
            handover_requested=True,
        ),
    )


async def events(
    url: str,
    auth: dict[str, str],
    count: int,
    last_id: str | None = None,
    conversations: Collection[uuid.UUID] | None = None,
) -> list[dict[str, str]]:
    """The first `count` events of a stream (after `ready`), each as its fields; with
    `conversations`, only changes about them count (the gateway's other consumers, still busy
    with what earlier modules published, may push changes of their own meanwhile)."""
    wanted = {str(c) for c in conversations} if conversations is not None else None
    headers = {**auth, "Accept": "text/event-stream", **({"Last-Event-ID": last_id} if last_id else {})}
    seen: list[dict[str, str]] = []
    async with (
        httpx.AsyncClient(base_url=url, timeout=10) as http,
        http.stream("GET", "/api/v1/live", headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        fields: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line == "":
                if fields and (wanted is None or _about(fields, wanted)):
                    seen.append(fields)
                fields = {}
                if len(seen) == count + 1:
                    break
            elif not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
    assert seen[0]["event"] == "ready"
    return seen


async def listening_to(app: FastAPI, stream: asyncio.Task[Any]) -> None:
    """Until the stream's listener is registered; a stream that ended first says why. Generous:
    the first stream of a module meets a gateway still busy with what earlier modules left."""
    await eventually(lambda: asyncio.sleep(0, app.state.live_hub.listeners > 0 or stream.done()), timeout=30)
    if stream.done():
        stream.result()  # raises what ended it


def _about(fields: dict[str, str], conversations: set[str]) -> bool:
    if fields.get("event") != "change":
        return True  # ready and reset always count
    return json.loads(fields["data"]).get("conversation_id") in conversations


async def test_a_customer_message_reaches_an_open_stream_as_ids_without_its_text(
    served: str, auth: dict[str, str], app: FastAPI
) -> None:
    conversation = uuid.uuid4()
    listening = asyncio.create_task(events(served, auth, 1, conversations=[conversation]))
    await listening_to(app, listening)

    await publish_events(app.state.runtime.broker, a_message(conversation))
    ready, change = await asyncio.wait_for(listening, 10)

    assert change["event"] == "change"
    data = json.loads(change["data"])
    assert data == {
        "topic": "conversations",
        "type": "message.received",
        "conversation_id": str(conversation),
        "handover_requested": True,
        "needs_human": True,
    }
    assert THAI not in change["data"]
    assert "psid-live" not in change["data"]
    assert change["id"] != ready["id"]


async def test_a_reconnection_gets_what_happened_meanwhile_once_and_in_order(
    served: str, auth: dict[str, str], app: FastAPI
) -> None:
    (ready,) = await events(served, auth, 0)
    missed = [uuid.uuid4() for _ in range(3)]
    hub: Hub = app.state.live_hub
    before = len(hub._recent)
    await publish_events(app.state.runtime.broker, *(a_message(c) for c in missed))
    await eventually(lambda: asyncio.sleep(0, len(hub._recent) >= before + 3))

    resumed = await events(served, auth, 3, last_id=ready["id"], conversations=missed)

    assert [json.loads(e["data"])["conversation_id"] for e in resumed[1:]] == [str(c) for c in missed]
    # Resuming after the last of them replays none of them: the next change about them (or the
    # marker, published after them, replayed from the cursor or heard live) is the marker's.
    marker = uuid.uuid4()
    await publish_events(app.state.runtime.broker, a_message(marker))
    again = await events(served, auth, 1, last_id=resumed[-1]["id"], conversations=[*missed, marker])
    assert json.loads(again[1]["data"])["conversation_id"] == str(marker), "nothing resumed twice"


async def test_the_ais_score_and_insights_reach_staff_only_once_the_customer_shows_them(
    served: str, auth: dict[str, str], app: FastAPI, rabbitmq_url: str, make_contact: MakeContact
) -> None:
    """The ai's events reach the gateway's feed before its own consumer has stored them: a
    browser refetching on them could read the customer without them and never be told again."""
    psid = f"psid-{uuid.uuid4().hex[:12]}"
    customer_id = await new_customer(app.state.runtime, make_contact, psid)
    seen_when_told: list[tuple[str, Any, Any]] = []

    async def watch() -> list[str]:
        headers = {**auth, "Accept": "text/event-stream"}
        types: list[str] = []
        async with (
            httpx.AsyncClient(base_url=served, timeout=10) as http,
            http.stream("GET", "/api/v1/live", headers=headers) as response,
        ):
            async for line in response.aiter_lines():
                if not line.startswith("data: {") or '"topic"' not in line:
                    continue
                change = json.loads(line.removeprefix("data: "))
                types.append(change["type"])
                if change["type"] != "customer.lead_updated" or change.get("customer_id") != customer_id:
                    continue
                # What a browser does on the change: refetch the customer.
                view = (await http.get(f"/api/v1/customers/{customer_id}/overview", headers=auth)).json()
                seen_when_told.append((change["changed"][0], view["customer"]["lead"], view["insights"]))
                if len(seen_when_told) == 2:
                    return types
        return types

    watching = asyncio.create_task(watch())
    await listening_to(app, watching)
    await publish_to(rabbitmq_url, scored(psid, 80, "hot"))
    await eventually(lambda: asyncio.sleep(0, len(seen_when_told) == 1 or watching.done()), timeout=15)
    await publish_to(rabbitmq_url, insights(psid))
    types = await asyncio.wait_for(watching, 15)

    (what, lead, _), (what_next, _, stored) = seen_when_told
    assert (what, lead["score"], lead["temperature"]) == ("score", 80, "hot")
    assert what_next == "insights"
    assert stored["summary"] == insights(psid).data.summary
    assert "lead.scored" not in types
    assert "customer.insights_updated" not in types


async def test_a_cursor_of_another_replica_or_restart_is_told_to_refetch(
    served: str, auth: dict[str, str]
) -> None:
    _ready, reset = await events(served, auth, 1, last_id="0123456789ab:42")

    assert reset["event"] == "reset"
    assert reset["data"] == "{}"


async def test_the_stream_needs_a_signed_in_staff_member(served: str) -> None:
    async with httpx.AsyncClient(base_url=served) as http:
        response = await http.get("/api/v1/live", headers={"Authorization": "Bearer nonsense"})

    assert response.status_code == 401


async def test_every_replica_hears_every_event_through_its_own_queue(rabbitmq_url: str) -> None:
    hubs = [Hub(), Hub()]
    feeds = [Feed(hub, rabbitmq_url) for hub in hubs]
    for feed in feeds:
        await feed.start()
    try:
        event = OrderStatusChanged.model_validate(
            {
                "correlation_id": "live-test",
                "data": {
                    "order_id": str(uuid.uuid4()),
                    "customer_id": "TVS-CUS-FB-26-0001",
                    "status": "paid",
                    "previous_status": "pending",
                    "currency": "THB",
                    "total": "100.00",
                    "paid": "100.00",
                    "first_touch": None,
                    "changed_at": datetime.now(UTC).isoformat(),
                },
            }
        )
        await publish_to(rabbitmq_url, event)
        await eventually(lambda: asyncio.sleep(0, all(len(h._recent) == 1 for h in hubs)))
    finally:
        for feed in feeds:
            await feed.stop()
    assert [json.loads(h._recent[0].data)["order_id"] for h in hubs] == [str(event.data.order_id)] * 2


def test_a_listener_that_cannot_keep_up_is_told_to_refetch_instead_of_growing() -> None:
    hub = Hub(backlog=2)
    listener, first = hub.listen(["orders"], None)
    for n in range(3):
        hub.publish("orders", f'{{"n":{n}}}'.encode())
    hub.publish("customers", b"{}")

    assert first == []
    assert listener.queue.get_nowait() is RESET
    assert listener.queue.empty()


def test_a_cursor_older_than_what_the_replica_keeps_is_told_to_refetch() -> None:
    hub = Hub(capacity=2)
    first = hub.publish("orders", b"{}")
    for _ in range(3):
        hub.publish("orders", b"{}")

    _, replay = hub.listen(["orders"], hub.cursor(first))
    _, later = hub.listen(["orders"], hub.head())

    assert replay == [RESET]
    assert later == []
