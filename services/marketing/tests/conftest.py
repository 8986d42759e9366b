from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from crm_servicekit.db import create_engine, create_sessionmaker
from crm_servicekit.migrations import upgrade
from crm_servicekit.settings import ServiceSettings


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    """A session on the marketing schema, migrated by its own Alembic."""
    url = ServiceSettings(database_url=database_url).async_database_url
    await asyncio.to_thread(upgrade, "crm_marketing", url)
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as s:
        yield s
    await engine.dispose()
