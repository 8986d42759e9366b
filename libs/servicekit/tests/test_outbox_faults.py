"""The outbox relay when the broker goes quiet or drops the channel under a publish.

The cluster drill lost two replies once: after the node it was connected to stopped, a
messenger's relay never ran again and 25 outbox rows stayed unsent. aiormq cancels a closing
channel's pending confirms, and that `CancelledError` ended the relay's loop. These tests put a
TCP proxy between the relay and the machine's real RabbitMQ and play both faults.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from faststream.rabbit import RabbitBroker
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from crm_contracts import ContactSeen, ContactSeenData
from crm_servicekit.broker import Topology, create_broker, declare_topology, event_publishers, subscribe
from crm_servicekit.db import create_engine, create_sessionmaker, outbox_table, service_metadata
from crm_servicekit.outbox import OutboxPublisher
from crm_servicekit.periodic import PeriodicTask
from crm_servicekit.settings import ServiceSettings
from crm_servicekit.testing import eventually
from crm_servicekit.testproxy import TcpProxy

pytestmark = pytest.mark.integration


@dataclass
class Relay:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    outbox: Table
    proxy: TcpProxy
    broker: RabbitBroker  # publishes through the proxy
    received: list[uuid.UUID]

    def publisher(self, timeout: float) -> OutboxPublisher:
        return OutboxPublisher(
            self.sessions, self.outbox, event_publishers(self.broker, [ContactSeen]), publish_timeout=timeout
        )

    async def leave_rows(self, count: int) -> set[uuid.UUID]:
        """Rows a crash left between commit and publish."""
        events = [
            ContactSeen(
                correlation_id="m_fault",
                data=ContactSeenData(
                    page_id="p1", psid="u1", conversation_id=uuid.uuid4(), first_seen_at=datetime.now(UTC)
                ),
            )
            for _ in range(count)
        ]
        async with self.sessions() as session:
            await session.execute(
                self.outbox.insert(),
                [
                    {
                        "event_id": e.event_id,
                        "type": e.type,
                        "payload": e.model_dump(mode="json"),
                        "headers": {},
                    }
                    for e in events
                ],
            )
            await session.commit()
        return {e.event_id for e in events}

    async def outbox_empty(self) -> bool:
        return not await self.unsent()

    async def unsent(self) -> set[uuid.UUID]:
        async with self.sessions() as session:
            return set((await session.execute(select(self.outbox.c.event_id))).scalars())


@pytest.fixture
async def relay(database_url: str, rabbitmq_url: str) -> AsyncIterator[Relay]:
    schema = f"kitf_{uuid.uuid4().hex[:6]}"
    metadata = service_metadata(schema)
    outbox = outbox_table(metadata)
    engine = create_engine(ServiceSettings(database_url=database_url).async_database_url)
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        await conn.run_sync(metadata.create_all)

    topology = Topology(schema.replace("_", "-"))
    consumer = create_broker(rabbitmq_url, topology)  # straight to RabbitMQ: not under test
    received: list[uuid.UUID] = []

    @subscribe(consumer, topology, "contacts", ContactSeen)
    async def on_contact(event: ContactSeen) -> None:
        received.append(event.event_id)

    proxy = TcpProxy.for_url(rabbitmq_url).start()
    broker = create_broker(proxy.url(rabbitmq_url), Topology(topology.service))
    await consumer.connect()
    await declare_topology(consumer, topology)
    await consumer.start()
    await broker.connect()
    try:
        yield Relay(engine, create_sessionmaker(engine), outbox, proxy, broker, received)
    finally:
        proxy.thaw()
        proxy.stop()
        await broker.stop()
        await consumer.stop()
        async with engine.begin() as conn:
            await conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        await engine.dispose()


async def test_a_relay_whose_broker_goes_quiet_gives_up_at_its_deadline_and_leaves_the_rows_free(
    relay: Relay,
) -> None:
    left = await relay.leave_rows(3)
    publisher = relay.publisher(timeout=1.0)

    relay.proxy.freeze()  # the node is gone without closing anything: no confirm comes
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(publisher.relay_once(older_than_seconds=0), timeout=20)

    # Nothing was lost, and no lock is held: another replica's relay could take the rows now.
    assert await relay.unsent() == left
    async with relay.sessions() as session:
        locked = await session.execute(select(relay.outbox.c.event_id).with_for_update(nowait=True))
        assert set(locked.scalars()) == left
        await session.rollback()

    relay.proxy.thaw()

    async def relay_runs() -> bool:
        # aiormq closed the channel whose confirm timed out; a run fails until it is reopened.
        try:
            await publisher.relay_once(older_than_seconds=0)
        except Exception:
            return False
        return await relay.outbox_empty()

    await eventually(relay_runs, timeout=30, interval=0.2)
    await eventually(lambda: asyncio.sleep(0, left <= set(relay.received)))
    assert await relay.unsent() == set()


async def test_a_channel_closed_under_a_publish_fails_that_run_and_the_relay_keeps_running(
    relay: Relay,
) -> None:
    left = await relay.leave_rows(3)
    publisher = relay.publisher(timeout=60.0)  # longer than the test: only the close ends the wait
    runs: list[str] = []

    async def job() -> int:
        try:
            done = await publisher.relay_once(older_than_seconds=0)
        except BaseException as exc:
            runs.append(type(exc).__name__)
            raise
        runs.append("ok")
        return done

    relay.proxy.freeze()
    task = PeriodicTask("outbox-relay", 0.2, job)
    await task.start()
    try:
        await asyncio.sleep(1.0)  # the first run is waiting for a confirm
        assert runs == []
        relay.proxy.cut()  # the node closes: aiormq cancels the pending confirm
        await eventually(lambda: asyncio.sleep(0, runs), timeout=10)
        assert runs[0] != "CancelledError", "the channel's close reached the relay as a cancellation"

        relay.proxy.thaw()
        relay.proxy.restore()  # the robust connection comes back; the next run sends the rows
        await eventually(lambda: asyncio.sleep(0, left <= set(relay.received)), timeout=30)
        await eventually(relay.outbox_empty, timeout=10)
    finally:
        await task.stop()
