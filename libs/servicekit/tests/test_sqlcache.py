"""`frozen` statements: the same rows as the statement they come from, and a cache key."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_servicekit.db import create_engine, inbox_table, service_metadata
from crm_servicekit.settings import ServiceSettings
from crm_servicekit.sqlcache import frozen
from crm_servicekit.testing import create_database, drop_database

metadata = service_metadata("cache_test")
inbox = inbox_table(metadata)
CLAIM = (
    insert(inbox)
    .values(event_id=bindparam("event_id"), consumer=bindparam("consumer"))
    .on_conflict_do_nothing()
    .returning(inbox.c.event_id)
)


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    url = await create_database("crm_sqlcache_test")
    engine = create_engine(ServiceSettings(database_url=url).async_database_url)
    async with engine.begin() as conn:
        await conn.exec_driver_sql('CREATE SCHEMA "cache_test"')
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()
    await drop_database(url)


async def test_a_frozen_upsert_does_what_the_statement_does_and_is_cached(engine: AsyncEngine) -> None:
    assert CLAIM._generate_cache_key() is None  # why it exists: SQLAlchemy compiles this every time
    claim = frozen(CLAIM)
    assert claim._generate_cache_key() is not None
    event_id = uuid.uuid4()
    async with engine.begin() as conn:
        first = (await conn.execute(claim, {"event_id": event_id, "consumer": "ai.replies"})).all()
        again = (await conn.execute(claim, {"event_id": event_id, "consumer": "ai.replies"})).all()
        other = (await conn.execute(claim, {"event_id": event_id, "consumer": "ai.leads"})).all()
        count = (await conn.execute(select(func.count()).select_from(inbox))).scalar_one()
    assert [row.event_id for row in first] == [event_id]  # typed: a UUID, as the column says
    assert again == []
    assert [row.event_id for row in other] == [event_id]
    assert count == 2


def test_a_literal_value_is_refused() -> None:
    with pytest.raises(ValueError, match="bindparam"):
        frozen(insert(inbox).values(event_id=bindparam("event_id"), consumer="ai.replies"))
