"""Each service's migrations build exactly the tables its code declares (`alembic check`): a table
moved between modules, or a column changed without a migration, fails here."""

from __future__ import annotations

import asyncio

import pytest

from crm_servicekit.migrations import check, upgrade
from crm_servicekit.testing import create_database, drop_database

pytestmark = pytest.mark.integration

PACKAGES = ("crm_gateway", "crm_messenger", "crm_marketing", "crm_ai", "crm_cache_writer")


@pytest.mark.parametrize("package", PACKAGES)
async def test_migrations_and_models_agree(package: str) -> None:
    url = await create_database("crm_drift")
    asyncpg_url = url.replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        await asyncio.to_thread(upgrade, package, asyncpg_url)
        await asyncio.to_thread(check, package, asyncpg_url)
    finally:
        await drop_database(url)
