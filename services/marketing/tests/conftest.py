from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from crm_servicekit.db import create_engine, create_sessionmaker
from crm_servicekit.migrations import upgrade
from crm_servicekit.settings import ServiceSettings


@pytest.fixture(scope="session")
async def migrated(database_url: str) -> str:
    """The test database with the marketing schema, migrated by its own Alembic."""
    await asyncio.to_thread(
        upgrade, "crm_marketing", ServiceSettings(database_url=database_url).async_database_url
    )
    return database_url


@pytest.fixture
async def session(migrated: str) -> AsyncIterator[AsyncSession]:
    """A session on the marketing schema."""
    engine = create_engine(ServiceSettings(database_url=migrated).async_database_url)
    async with create_sessionmaker(engine)() as s:
        yield s
    await engine.dispose()
