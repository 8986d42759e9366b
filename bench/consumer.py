"""An event consumer with the inbox: events/s per core of the consuming process, vs raw aio-pika.

Ours is the path every service's subscriber takes (`crm_servicekit.broker.subscribe`: FastStream
with the tracing, metrics and retry middlewares, explicit ack after the handler): per event,
claim it in the inbox, make its effect (one upsert, frozen as the services' hot statements
are), commit, ack. The raw baseline consumes and acks the same number of messages with aio-pika
and nothing else. Both queues are full before
their consumer starts, so the figure is what one consumer sustains, not how fast this bench
publishes. CPU is the consuming process's own (`time.process_time()`); PostgreSQL's backends
are reported beside it. Spans are created as in the services; there is no collector here, so
none is exported.

    uv run python -m bench consumer --events 20000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
from sqlalchemy import Column, DateTime, String, Table, Uuid
from sqlalchemy.dialects.postgresql import insert

from crm_contracts import ContactSeen, ContactSeenData
from crm_servicekit.broker import EVENTS_EXCHANGE, Topology, create_broker, event_publishers, subscribe
from crm_servicekit.db import create_engine, create_sessionmaker, inbox_table, outbox_table, service_metadata
from crm_servicekit.outbox import OutboxPublisher, UnitOfWork
from crm_servicekit.runtime import declare_all
from crm_servicekit.settings import ServiceSettings
from crm_servicekit.sqlcache import bound, frozen
from crm_servicekit.testing import create_database, create_vhost, delete_vhost, drop_database
from crm_servicekit.tracing import setup_tracing

from .profile import ATTACH_S, Profile, Where, add_where_argument, where_of, where_text
from .servers import CpuMeter

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGET_PER_CORE = 2000.0
SCHEMA = "bench"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events", type=int, default=20000, help="events per consumer (default: 20000)")
    parser.add_argument("--prefetch", type=int, default=16, help="as the services' subscribers (default: 16)")
    add_where_argument(parser, "a second pass of the consumer")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)


def contact_seen(index: int) -> bytes:
    event = ContactSeen(
        correlation_id=f"m_bench_{index}",
        data=ContactSeenData(
            page_id="p1", psid=f"u{index}", conversation_id=uuid.uuid4(), first_seen_at=datetime.now(UTC)
        ),
    )
    return event.model_dump_json().encode()


async def fill(url: str, exchange: str, routing_key: str, bodies: list[bytes]) -> None:
    """Publish `bodies` persistently with confirms, in windows of 500."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        target = await channel.get_exchange(exchange) if exchange else channel.default_exchange
        for start in range(0, len(bodies), 500):
            await asyncio.gather(
                *(
                    target.publish(
                        aio_pika.Message(body, message_id=str(uuid.uuid4()), delivery_mode=2),
                        routing_key=routing_key,
                    )
                    for body in bodies[start : start + 500]
                )
            )


async def measure(consume: Any, count: int, done: asyncio.Event) -> dict[str, float]:
    meter = CpuMeter({}, {"postgres": ["postgres"]})
    before, cpu0, t0 = meter.snapshot(), time.process_time(), time.perf_counter()
    await consume()
    await asyncio.wait_for(done.wait(), 600)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    usage = CpuMeter.usage(before, meter.snapshot())
    postgres_s = usage["postgres"] / 100.0 * usage["wall_s"]
    return {
        "events": count,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "per_s": round(count / wall, 1),
        "per_core_s": round(count / cpu, 1),
        "cpu_ms_per_event": round(cpu * 1000 / count, 4),
        "postgres_cpu_ms_per_event": round(postgres_s * 1000 / count, 4),
    }


async def raw(url: str, count: int, prefetch: int) -> dict[str, float]:
    name = f"bench.raw.{uuid.uuid4().hex[:8]}"
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=prefetch)
        queue = await channel.declare_queue(name, durable=True, arguments={"x-queue-type": "quorum"})
        await fill(url, "", name, [contact_seen(i) for i in range(count)])
        seen = 0
        done = asyncio.Event()

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal seen
            await message.ack()
            seen += 1
            if seen == count:
                done.set()

        async def consume() -> None:
            await queue.consume(on_message)

        result = await measure(consume, count, done)
        await queue.delete(if_unused=False, if_empty=False)
        return result


async def ours(
    url: str,
    database_url: str,
    count: int,
    prefetch: int,
    *,
    schema: str = SCHEMA,
    profile: Profile | None = None,
) -> dict[str, float]:
    """The queue is filled first; `profile`, if given, samples this process while it is consumed."""
    metadata = service_metadata(schema)
    outbox, inbox = outbox_table(metadata), inbox_table(metadata)
    contacts = Table(
        "contacts",
        metadata,
        Column("psid", String, primary_key=True),
        Column("conversation_id", Uuid, nullable=False),
        Column("first_seen_at", DateTime(timezone=True), nullable=False),
    )
    engine = create_engine(ServiceSettings(database_url=database_url).async_database_url)
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        await conn.run_sync(metadata.create_all)
    sessions = create_sessionmaker(engine)
    topology = Topology("bench")
    broker = create_broker(url, topology)
    publisher = OutboxPublisher(sessions, outbox, event_publishers(broker, []))
    seen = 0
    done = asyncio.Event()

    # The effect as the services write a statement that runs for every event: built once and
    # frozen (`crm_servicekit.sqlcache`; SQLAlchemy would compile an upsert on every execution).
    remember = frozen(
        insert(contacts).values(bound("psid", "conversation_id", "first_seen_at")).on_conflict_do_nothing()
    )

    @subscribe(broker, topology, "contacts", ContactSeen, prefetch=prefetch)
    async def on_contact(event: ContactSeen) -> None:
        nonlocal seen
        async with UnitOfWork(sessions, publisher, inbox) as uow:
            if await uow.claim(event.event_id, "bench.contacts"):
                data = event.data
                row = {
                    "psid": data.psid,
                    "conversation_id": data.conversation_id,
                    "first_seen_at": data.first_seen_at,
                }
                await uow.session.execute(remember, row)
                await uow.commit()
        seen += 1
        if seen == count:
            done.set()

    await declare_all(broker, topology)
    await fill(url, EVENTS_EXCHANGE.name, ContactSeen.event_type, [contact_seen(i) for i in range(count)])
    if profile is not None:
        profile.__enter__()
        await asyncio.sleep(ATTACH_S)
    try:
        return await measure(broker.start, count, done)
    finally:
        if profile is not None:
            await asyncio.to_thread(profile.stop)
        await broker.stop()
        await engine.dispose()


async def run(opts: argparse.Namespace) -> int:
    started = datetime.now(UTC)
    setup_tracing("crm-bench-consumer")
    database_url = await create_database("crm_bench_consumer")
    url = await asyncio.to_thread(create_vhost, "crm-bench-consumer")
    try:
        baseline = await raw(url, opts.events, opts.prefetch)
        mine = await ours(url, database_url, opts.events, opts.prefetch)
        # A second pass of ours under py-spy: the figures above are the profiler's own CPU free.
        where: Where = {}
        if opts.where:
            profile = Profile(
                os.getpid(), opts.results_dir / f"profile-consumer-{started:%Y%m%dT%H%M%SZ}.txt"
            )
            await ours(
                url, database_url, opts.events, opts.prefetch, schema=f"{SCHEMA}_where", profile=profile
            )
            where = where_of({"consumer": profile})
            print(f"where the time goes (py-spy, a second pass): {where_text(where)}")
    finally:
        await asyncio.to_thread(delete_vhost, url)
        await drop_database(database_url)
    ratio = mine["per_core_s"] / baseline["per_core_s"]
    met = mine["per_core_s"] >= TARGET_PER_CORE
    print(f"{'':28} {'events/s':>9} {'per core':>9} {'CPU ms/event':>13} {'pg ms/event':>12}")
    for label, r in (("raw aio-pika consume + ack", baseline), ("inbox claim+effect+commit", mine)):
        print(
            f"{label:28} {r['per_s']:>9.0f} {r['per_core_s']:>9.0f} {r['cpu_ms_per_event']:>13.3f}"
            f" {r['postgres_cpu_ms_per_event']:>12.3f}"
        )
    print(
        f"ours per core {mine['per_core_s']:.0f}/s = {ratio:.2f} x raw;"
        f" target >= {TARGET_PER_CORE:.0f}/s per core:"
        f" {'met' if met else 'MISSED by ' + format(TARGET_PER_CORE - mine['per_core_s'], '.0f') + '/s'}"
    )
    opts.results_dir.mkdir(parents=True, exist_ok=True)
    path = opts.results_dir / f"consumer-{started:%Y%m%dT%H%M%SZ}.json"
    doc = {
        "benchmark": "consumer",
        "started": started.isoformat(),
        "options": {"events": opts.events, "prefetch": opts.prefetch},
        "raw": baseline,
        "ours": mine,
        "ratio_per_core": round(ratio, 3),
        "where": where,
        "verdict": {"target_per_core": TARGET_PER_CORE, "met": met},
    }
    path.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"results: {path}")
    return 0


async def main(args: argparse.Namespace) -> int:
    return await run(args)
