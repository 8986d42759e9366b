"""Erasure reaches the copies in transit: outbox rows and parked messages, on the real stores."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
from sqlalchemy import insert, select, text

from crm_servicekit.broker import parked_queue_name
from crm_servicekit.db import create_engine, create_sessionmaker, outbox_table, service_metadata
from crm_servicekit.pdpa import find_mentions, purge_outbox, purge_parked
from crm_servicekit.settings import ServiceSettings
from crm_servicekit.testing import create_vhost, delete_vhost

pytestmark = pytest.mark.integration

PSID = "7001002003004005"
OTHER = "7009008007006005"
NAME = 'สมหญิง "Noon" ใจดี 100%'


@pytest.fixture
async def vhost() -> AsyncIterator[str]:
    url = create_vhost("crm-test-pdpa")
    yield url
    delete_vhost(url)


async def park(url: str, queue: str, bodies: list[bytes]) -> None:
    async with await aio_pika.connect(url) as connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.declare_queue(
            parked_queue_name(queue), durable=True, arguments={"x-queue-type": "quorum"}
        )
        for body in bodies:
            await channel.default_exchange.publish(
                aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=parked_queue_name(queue),
            )


async def drain(url: str, queue: str) -> list[bytes]:
    async with await aio_pika.connect(url) as connection:
        channel = await connection.channel()
        parked = await channel.get_queue(parked_queue_name(queue), ensure=True)
        bodies = []
        while (message := await parked.get(no_ack=True, fail=False)) is not None:
            bodies.append(message.body)
        return bodies


def event(psid: str, text: str, n: int) -> bytes:
    return json.dumps({"type": "message.received", "n": n, "data": {"psid": psid, "text": text}}).encode()


async def test_parked_messages_mentioning_the_person_go_and_the_rest_keep_their_order(vhost: str) -> None:
    await park(
        vhost,
        "svc.replies",
        [
            event(OTHER, "hello", 1),
            event(PSID, "first", 2),
            event(OTHER, "again", 3),
            # Escaped Thai, as `json.dumps` writes it by default, still names the person.
            json.dumps({"n": 4, "data": {"name": NAME}}).encode(),
            event(OTHER, "last", 5),
        ],
    )
    await park(vhost, "svc.contacts", [event(PSID, "x", 6), event(OTHER, "y", 7)])

    removed = await purge_parked(vhost, ["svc.replies", "svc.contacts", "svc.never-declared"], [PSID, NAME])

    assert removed == 3
    assert [json.loads(b)["n"] for b in await drain(vhost, "svc.replies")] == [1, 3, 5]
    assert [json.loads(b)["n"] for b in await drain(vhost, "svc.contacts")] == [7]


async def test_purging_twice_removes_nothing_more_and_an_open_connection_can_be_reused(vhost: str) -> None:
    await park(vhost, "svc.replies", [event(PSID, "a", 1), event(OTHER, "b", 2)])
    async with await aio_pika.connect(vhost) as connection:
        assert await purge_parked(connection, ["svc.replies"], [PSID]) == 1
        assert await purge_parked(connection, ["svc.replies"], [PSID]) == 0
    assert await purge_parked(vhost, ["svc.replies"], []) == 0, "no needle matches nothing"
    assert [json.loads(b)["n"] for b in await drain(vhost, "svc.replies")] == [2]


async def test_outbox_rows_mentioning_the_person_are_deleted_in_the_callers_transaction(
    database_url: str,
) -> None:
    schema = f"kit_pdpa_{uuid.uuid4().hex[:6]}"
    outbox = outbox_table(service_metadata(schema))
    engine = create_engine(ServiceSettings(database_url=database_url).async_database_url)
    sessionmaker = create_sessionmaker(engine)
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await conn.run_sync(outbox.metadata.create_all)
    payloads = [
        {"n": 1, "data": {"psid": PSID, "text": "mine"}},
        {"n": 2, "data": {"psid": OTHER, "text": "theirs"}},
        {"n": 3, "data": {"display_name": NAME}},
        # `_` and `%` are LIKE wildcards: a needle with them matches only itself.
        {"n": 4, "data": {"display_name": 'สมหญิง "Noon" ใจดี 1000'}},
    ]
    try:
        async with sessionmaker() as session:
            await session.execute(
                insert(outbox),
                [{"event_id": uuid.uuid4(), "type": "t", "payload": p} for p in payloads],
            )
            await session.commit()
        async with sessionmaker() as session:
            assert await purge_outbox(session, outbox, [PSID, NAME, ""]) == 2
            await session.rollback()
        async with sessionmaker() as session:
            left = (await session.execute(select(outbox.c.payload["n"].as_integer()))).scalars().all()
            assert sorted(left) == [1, 2, 3, 4], "nothing is gone until the caller commits"
            assert await purge_outbox(session, outbox, [PSID, NAME]) == 2
            await session.commit()
            left = (await session.execute(select(outbox.c.payload["n"].as_integer()))).scalars().all()
            assert sorted(left) == [2, 4]
            assert await find_mentions(session, schema, [PSID, NAME]) == {}
            assert await find_mentions(session, schema, [OTHER, "ใจดี 1000"]) == {"outbox.payload": 2}
            assert await find_mentions(session, schema, ["t"]) == {"outbox.type": 2, "outbox.payload": 2}
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await engine.dispose()
