"""Sending survives interruptions (issue 11, ADR 14): a reply Meta holds while the broker drops
the connection still ends `sent`, once; a part a stopped process left `sending` fails once, with
a reason staff can read, however many replicas sweep; a live sender is never overruled; and a
stopping process resolves what it has in flight. Nothing is ever sent twice."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from crm_fakes import MetaState
from crm_messenger.conversations.models import messages
from crm_messenger.outbound.delivery import INTERRUPTED
from crm_messenger.outbound.parts import split_text
from crm_messenger.outbound.sweeper import resolve_interrupted, sweep
from crm_servicekit.db import create_engine, create_sessionmaker
from crm_servicekit.outbox import UnitOfWork
from crm_servicekit.testing import eventually

from .conftest import Messenger, running_messenger
from .helpers import publish, reply_to, say
from .interruptions import (
    MetaGate,
    broker_back,
    connections,
    drop_connections,
    events_about,
    leave_parts,
    staff_view,
    status_of,
    texts_to,
)

pytestmark = pytest.mark.integration

LONG_AGO = timedelta(minutes=10)  # well past the sweeper's bound for a part left `sending`


@pytest.fixture
async def held(
    migrated: str, rabbitmq_url: str, gated_meta: tuple[str, MetaState, MetaGate]
) -> AsyncIterator[tuple[Messenger, MetaGate]]:
    """A messenger whose Meta holds text messages while its gate is closed."""
    url, state, gate = gated_meta
    try:
        # Meta's answer is awaited well past the drill: no answer at all is another test.
        async with running_messenger(migrated, rabbitmq_url, (url, state), send_timeout_seconds=90) as m:
            yield m, gate
    finally:
        gate.open()


async def sent_once(m: Messenger, message_id: uuid.UUID) -> None:
    """Exactly one `message.sent` for the message, checked after a later reply went out."""
    sentinel = reply_to(await say(m, f"psid-sentinel-{uuid.uuid4().hex[:6]}", "hello"), "sentinel")
    await publish(m, sentinel)
    await eventually(lambda: _sent_for(m, sentinel.event_id))
    assert len(events_about(m, "message.sent", message_id)) == 1
    assert events_about(m, "message.send_failed", message_id) == []


async def _sent_for(m: Messenger, source: uuid.UUID) -> list[dict[str, Any]]:
    return [e for e in m.events.of_type("message.sent") if e["data"]["in_reply_to_event_id"] == str(source)]


async def test_a_reply_meta_holds_while_the_broker_drops_the_connection_ends_sent_once(
    held: tuple[Messenger, MetaGate], rabbitmq_url: str
) -> None:
    m, gate = held
    received = await say(m, "psid-drop", "hello")
    reply = reply_to(received, "ขอบคุณที่รอค่ะ")
    gate.close()
    await publish(m, reply)
    await eventually(gate.holding)  # Meta has the message and has not answered
    # The broker drops every connection, as when RabbitMQ restarts, and the clients reconnect.
    before = await asyncio.to_thread(connections, rabbitmq_url)
    await asyncio.to_thread(drop_connections, rabbitmq_url)
    await eventually(lambda: broker_back(rabbitmq_url, before), timeout=30, interval=0.5)
    gate.open()

    [sent] = await eventually(lambda: _sent_for(m, reply.event_id))
    message_id = uuid.UUID(sent["data"]["message_id"])
    [delivered] = [s for s in m.meta.messages() if s.recipient_id == "psid-drop" and s.text]
    assert sent["data"]["meta_message_id"] == delivered.message_id
    view = (await staff_view(m, received["data"]["conversation_id"]))[str(message_id)]
    assert (view["status"], view["error_reason"]) == ("sent", None)
    await sent_once(m, message_id)
    assert texts_to(m, "psid-drop") == ["ขอบคุณที่รอค่ะ"]


async def test_a_part_left_sending_by_a_stopped_process_fails_once_and_the_next_reply_goes(
    messenger: Messenger,
) -> None:
    received = await say(messenger, "psid-crashed", "hello")
    conversation_id = received["data"]["conversation_id"]
    # A process killed while Meta had part 0 of a reply: part 0 `sending`, part 1 never claimed;
    # a later reply waits behind them.
    first, second = await leave_parts(
        messenger, conversation_id, [("sending", "first half"), ("pending", "second half")], age=LONG_AGO
    )
    [later] = await leave_parts(messenger, conversation_id, [("pending", "a later reply")], age=LONG_AGO)
    sender = messenger.app.state.runtime.extras["sender"]
    await sender.drain(uuid.UUID(conversation_id))
    assert texts_to(messenger, "psid-crashed") == [], "nothing overtakes a part whose delivery is unknown"

    # Two replicas sweep at once (the second with its own engine, as another process would).
    engine = create_engine(messenger.settings.async_database_url)
    try:
        runtime = messenger.app.state.runtime
        sessions = create_sessionmaker(engine)
        await asyncio.gather(
            sweep(sender, timedelta(seconds=messenger.settings.pending_send_grace_seconds)),
            resolve_interrupted(lambda: UnitOfWork(sessions, runtime.outbox, runtime.inbox)),
        )
    finally:
        await engine.dispose()

    await eventually(lambda: _failed(messenger, first, second))
    await eventually(lambda: asyncio.sleep(0, texts_to(messenger, "psid-crashed")))
    view = await staff_view(messenger, conversation_id)
    assert (view[str(first)]["status"], view[str(first)]["error_reason"]) == ("failed", INTERRUPTED)
    assert view[str(second)]["status"] == "failed"
    assert view[str(second)]["error_reason"] == f"an earlier part failed: {INTERRUPTED}"
    [failed] = events_about(messenger, "message.send_failed", first)
    assert failed["data"]["reason"].startswith("interrupted: delivery unknown")
    await sent_once(messenger, later)
    assert len(events_about(messenger, "message.send_failed", first)) == 1
    assert len(events_about(messenger, "message.send_failed", second)) == 1
    assert texts_to(messenger, "psid-crashed") == ["a later reply"], "the interrupted reply is not resent"


async def _failed(m: Messenger, *ids: uuid.UUID) -> bool:
    return all(events_about(m, "message.send_failed", i) for i in ids)


async def test_a_live_sender_is_never_overruled_however_long_meta_takes(
    held: tuple[Messenger, MetaGate],
) -> None:
    m, gate = held
    received = await say(m, "psid-slow", "hello")
    reply = reply_to(received, "ช้าหน่อยนะคะ")
    gate.close()
    await publish(m, reply)
    await eventually(gate.holding)
    # The part has been `sending` for long past the bound, but its sender is alive.
    async with m.app.state.runtime.sessionmaker() as session:
        [message_id] = (
            await session.execute(
                update(messages)
                .where(messages.c.source_event_id == reply.event_id)
                .values(updated_at=func.now() - LONG_AGO)
                .returning(messages.c.id)
            )
        ).scalars()
        await session.commit()
    assert await resolve_interrupted(m.app.state.runtime.uow) == {}
    assert await status_of(m, message_id) == "sending"
    gate.open()

    await eventually(lambda: _sent_for(m, reply.event_id))
    assert await status_of(m, message_id) == "sent"
    await sent_once(m, message_id)
    assert texts_to(m, "psid-slow") == ["ช้าหน่อยนะคะ"]


async def test_a_stopping_process_resolves_the_call_it_has_in_flight(
    held: tuple[Messenger, MetaGate],
) -> None:
    m, gate = held
    received = await say(m, "psid-stop", "hello")
    reply = reply_to(received, " ".join(f"Sentence {i} of a long answer." for i in range(100)))
    first_part, _ = split_text(reply.data.text)
    gate.close()
    await publish(m, reply)
    await eventually(gate.holding)
    sender = m.app.state.runtime.extras["sender"]
    sender.shutdown_grace = 0.1  # Meta will not answer within any grace: do not wait for it
    await sender.close()  # the sender's part of the service's shutdown

    first, second = await eventually(lambda: _failed_parts(m, reply.event_id))
    view = await staff_view(m, received["data"]["conversation_id"])
    assert (view[str(first)]["status"], view[str(first)]["error_reason"]) == ("failed", INTERRUPTED)
    assert (view[str(second)]["status"], view[str(second)]["error_reason"]) == (
        "failed",
        f"an earlier part failed: {INTERRUPTED}",
    )
    assert await _sent_for(m, reply.event_id) == []
    gate.open()  # Meta did have part 0: "delivery unknown" was the honest answer
    assert await eventually(lambda: asyncio.sleep(0, texts_to(m, "psid-stop"))) == [first_part]


async def _failed_parts(m: Messenger, source: uuid.UUID) -> list[uuid.UUID]:
    """The reply's two parts in order, once both were announced failed."""
    failed = {
        e["data"]["message_id"]
        for e in m.events.of_type("message.send_failed")
        if e["correlation_id"] == str(source)
    }
    async with m.app.state.runtime.sessionmaker() as session:
        rows = (
            await session.execute(
                select(messages.c.id).where(messages.c.source_event_id == source).order_by(messages.c.part)
            )
        ).scalars()
        ids = list(rows)
    return ids if len(ids) == 2 and {str(i) for i in ids} == failed else []
