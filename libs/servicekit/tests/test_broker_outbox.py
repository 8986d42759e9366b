"""The platform's delivery guarantees, against the machine's real RabbitMQ and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from crm_contracts import ContactSeen, ContactSeenData
from crm_servicekit.broker import RetryPolicy, Topology, create_broker, declare_topology, subscribe
from crm_servicekit.db import create_engine, create_sessionmaker, inbox_table, outbox_table, service_metadata
from crm_servicekit.outbox import OutboxPublisher, UnitOfWork
from crm_servicekit.parking import list_parked, replay
from crm_servicekit.runtime import declare_all
from crm_servicekit.settings import ServiceSettings
from crm_servicekit.testing import eventually

pytestmark = pytest.mark.integration


def contact_seen() -> ContactSeen:
    return ContactSeen(
        correlation_id="m_test",
        data=ContactSeenData(
            page_id="p1", psid="u1", conversation_id=uuid.uuid4(), first_seen_at=datetime.now(UTC)
        ),
    )


@pytest.fixture
async def broker(rabbitmq_url: str) -> AsyncIterator[tuple[RabbitBroker, Topology]]:
    topology = Topology(f"kit{uuid.uuid4().hex[:6]}")
    broker = create_broker(rabbitmq_url, topology)
    yield broker, topology
    await broker.stop()


async def test_failing_handler_is_retried_with_backoff_then_parked_and_replayable(
    broker: tuple[RabbitBroker, Topology], rabbitmq_url: str
) -> None:
    rabbit, topology = broker
    attempts: list[float] = []
    healthy = asyncio.Event()
    handled: list[uuid.UUID] = []

    @subscribe(rabbit, topology, "contacts", ContactSeen, retry=RetryPolicy(delays=(1, 2)))
    async def on_contact(event: ContactSeen) -> None:
        attempts.append(asyncio.get_running_loop().time())
        if not healthy.is_set():
            raise RuntimeError("downstream unavailable")
        handled.append(event.event_id)

    await rabbit.connect()
    await declare_topology(rabbit, topology)
    await rabbit.start()
    event = contact_seen()
    publisher = rabbit.publisher(exchange="crm.events", routing_key=ContactSeen.event_type)
    await publisher.publish(event.model_dump_json().encode(), message_id=str(event.event_id))

    queue = topology.queue_name("contacts")

    async def parked() -> list[object]:
        return list(await list_parked(rabbitmq_url, queue))

    [message] = await eventually(parked, timeout=15)
    assert len(attempts) == 3, "first try plus one retry per delay"
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert gaps[0] >= 0.9, f"the first retry waits its backoff: {gaps}"
    assert gaps[1] >= 1.9, f"the second retry waits longer: {gaps}"
    assert message.message_id == str(event.event_id)  # type: ignore[attr-defined]
    assert "RuntimeError" in (message.error or "")  # type: ignore[attr-defined]
    assert message.event_type == "contact.seen"  # type: ignore[attr-defined]

    healthy.set()
    assert await replay(rabbitmq_url, queue) == 1
    await eventually(lambda: asyncio.sleep(0, handled), timeout=10)
    assert handled == [event.event_id]
    assert await list_parked(rabbitmq_url, queue) == []


async def test_a_database_outage_does_not_spend_the_attempts_of_messages_in_flight(
    broker: tuple[RabbitBroker, Topology], rabbitmq_url: str
) -> None:
    """PostgreSQL restarting for longer than the backoff must not park what was in flight."""
    rabbit, topology = broker
    outage_failures = 3  # more than the policy's one retry
    calls: dict[str, int] = {"outage": 0, "bug": 0}
    handled: list[uuid.UUID] = []

    @subscribe(rabbit, topology, "contacts", ContactSeen, retry=RetryPolicy(delays=(1,)))
    async def on_contact(event: ContactSeen) -> None:
        kind = event.correlation_id
        calls[kind] += 1
        if kind == "bug":
            raise RuntimeError("a mistake in the handler")
        if calls[kind] <= outage_failures:
            raise ConnectionRefusedError(111, "Connect call failed")
        handled.append(event.event_id)

    await rabbit.connect()
    await declare_topology(rabbit, topology)
    await rabbit.start()
    during_outage = contact_seen().model_copy(update={"correlation_id": "outage"})
    broken = contact_seen().model_copy(update={"correlation_id": "bug"})
    publisher = rabbit.publisher(exchange="crm.events", routing_key=ContactSeen.event_type)
    for event in (during_outage, broken):
        await publisher.publish(event.model_dump_json().encode(), message_id=str(event.event_id))

    await eventually(lambda: asyncio.sleep(0, handled), timeout=15)
    assert handled == [during_outage.event_id]
    assert calls["outage"] == outage_failures + 1

    queue = topology.queue_name("contacts")

    async def parked() -> list[object]:
        return list(await list_parked(rabbitmq_url, queue))

    [message] = await eventually(parked, timeout=10)
    assert message.message_id == str(broken.event_id)  # type: ignore[attr-defined]
    assert calls["bug"] == 2, "an ordinary failure still parks after its one retry"


async def test_unparseable_message_is_parked_at_once(
    broker: tuple[RabbitBroker, Topology], rabbitmq_url: str
) -> None:
    rabbit, topology = broker
    calls = 0

    @subscribe(rabbit, topology, "contacts", ContactSeen)
    async def on_contact(event: ContactSeen) -> None:
        nonlocal calls
        calls += 1

    await rabbit.connect()
    await declare_topology(rabbit, topology)
    await rabbit.start()
    await rabbit.publisher(exchange="crm.events", routing_key="contact.seen").publish(
        b'{"type": "contact.seen", "data": {}}', message_id="bad-1"
    )

    async def parked() -> list[object]:
        return list(await list_parked(rabbitmq_url, topology.queue_name("contacts")))

    [message] = await eventually(parked, timeout=10)
    assert message.message_id == "bad-1"  # type: ignore[attr-defined]
    assert "ValidationError" in (message.error or "")  # type: ignore[attr-defined]
    assert calls == 0


async def outbox_schema(
    database_url: str,
) -> tuple[str, AsyncEngine, async_sessionmaker[AsyncSession], Table, Table]:
    """A fresh schema with an outbox and an inbox, as a service's migration creates them."""
    schema = f"kit_{uuid.uuid4().hex[:6]}"
    metadata = service_metadata(schema)
    outbox, inbox = outbox_table(metadata), inbox_table(metadata)
    engine = create_engine(ServiceSettings(database_url=database_url).async_database_url)
    async with engine.begin() as conn:
        # The library owns no schema; services create these tables with their own Alembic.
        await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        await conn.run_sync(metadata.create_all)
    return schema, engine, create_sessionmaker(engine), outbox, inbox


async def test_outbox_publishes_after_commit_relays_leftovers_and_inbox_dedupes(
    database_url: str, rabbitmq_url: str
) -> None:
    schema, engine, sessions, outbox, inbox = await outbox_schema(database_url)
    topology = Topology(schema.replace("_", "-"))
    rabbit = create_broker(rabbitmq_url, topology)
    received: list[uuid.UUID] = []

    @subscribe(rabbit, topology, "contacts", ContactSeen)
    async def on_contact(event: ContactSeen) -> None:
        received.append(event.event_id)

    from crm_servicekit.broker import event_publishers

    publisher = OutboxPublisher(sessions, outbox, event_publishers(rabbit, [ContactSeen]))
    await rabbit.connect()
    await declare_topology(rabbit, topology)
    await rabbit.start()
    try:
        # 1. emitted in the transaction, published after commit, outbox emptied
        first = contact_seen()
        async with UnitOfWork(sessions, publisher, inbox) as uow:
            uow.emit(first)
            await uow.commit()
        await eventually(lambda: asyncio.sleep(0, first.event_id in received))
        await publisher.drain()  # confirmed rows are deleted together a moment later
        async with sessions() as session:
            assert (await session.execute(select(outbox.c.event_id))).all() == []

        # 2. rolled back: nothing published, nothing left
        dropped = contact_seen()
        async with UnitOfWork(sessions, publisher, inbox) as uow:
            uow.emit(dropped)
        # 3. crash between commit and publish: the row stays; the relay sends it
        orphan = contact_seen()
        async with sessions() as session:
            await session.execute(
                outbox.insert().values(
                    event_id=orphan.event_id,
                    type=orphan.type,
                    payload=orphan.model_dump(mode="json"),
                    headers={},
                )
            )
            await session.commit()
        assert await publisher.relay_once(older_than_seconds=0) == 1
        await eventually(lambda: asyncio.sleep(0, orphan.event_id in received))
        assert dropped.event_id not in received
        async with sessions() as session:
            assert (await session.execute(select(outbox.c.event_id))).all() == []

        # 4. inbox: the same event id is claimed once per consumer
        async with UnitOfWork(sessions, publisher, inbox) as uow:
            assert await uow.claim(first.event_id, "kit.contacts")
            assert not await uow.claim(first.event_id, "kit.contacts")
            assert await uow.claim(first.event_id, "other.consumer")
            await uow.commit()
        async with UnitOfWork(sessions, publisher, inbox) as uow:
            assert await uow.handled(first.event_id, "kit.contacts")
            assert not await uow.claim(first.event_id, "kit.contacts")
    finally:
        await rabbit.stop()
        await engine.dispose()


async def test_declare_all_binds_every_subscriber_queue_before_anyone_consumes(
    rabbitmq_url: str,
) -> None:
    """An event published before its consumer first starts waits in the consumer's queue."""
    topology = Topology(f"kit{uuid.uuid4().hex[:6]}")
    rabbit = create_broker(rabbitmq_url, topology)
    got: list[uuid.UUID] = []

    @subscribe(rabbit, topology, "contacts", ContactSeen)
    async def on_contact(event: ContactSeen) -> None:
        got.append(event.event_id)

    await declare_all(rabbit, topology)

    sender = create_broker(rabbitmq_url, Topology("sender"))
    await sender.connect()
    event = contact_seen()
    await sender.publisher(exchange="crm.events", routing_key="contact.seen").publish(
        event.model_dump_json().encode()
    )
    await sender.stop()

    await rabbit.start()
    await eventually(lambda: asyncio.sleep(0, got == [event.event_id]))
    await rabbit.stop()


async def test_a_commit_of_many_events_publishes_them_together_in_emit_order(
    database_url: str, rabbitmq_url: str
) -> None:
    """A webhook batch emits about a hundred events: their confirms are awaited together (not one
    after another), and consumers still receive them in the order they were emitted."""
    schema, engine, sessions, outbox, inbox = await outbox_schema(database_url)
    topology = Topology(schema.replace("_", "-"))
    rabbit = create_broker(rabbitmq_url, topology)
    received: list[uuid.UUID] = []

    @subscribe(rabbit, topology, "contacts", ContactSeen, prefetch=1)
    async def on_contact(event: ContactSeen) -> None:
        received.append(event.event_id)

    from crm_servicekit.broker import event_publishers

    class Counting(OutboxPublisher):
        in_flight = most = 0

        async def send(self, *args: Any) -> None:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            try:
                await super().send(*args)
            finally:
                self.in_flight -= 1

    publisher = Counting(sessions, outbox, event_publishers(rabbit, [ContactSeen]))
    await rabbit.connect()
    await declare_topology(rabbit, topology)
    await rabbit.start()
    try:
        events = [contact_seen() for _ in range(120)]
        async with UnitOfWork(sessions, publisher, inbox) as uow:
            for event in events:
                uow.emit(event)
            await uow.commit()
        assert publisher.most == len(events), "every publish was waiting for its confirm at once"
        await eventually(lambda: asyncio.sleep(0, len(received) == len(events)))
        assert received == [e.event_id for e in events]
        await publisher.drain()
        async with sessions() as session:
            assert (await session.execute(select(outbox.c.event_id))).all() == []
    finally:
        await rabbit.stop()
        await engine.dispose()
