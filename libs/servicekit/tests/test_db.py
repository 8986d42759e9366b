"""The engine every service uses, against the machine's PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from crm_servicekit.db import create_engine
from crm_servicekit.settings import ServiceSettings

pytestmark = pytest.mark.integration


async def test_a_failed_statement_names_the_statement_but_not_its_values(database_url: str) -> None:
    """An unhandled database error is logged with its text (uvicorn, FastStream): the values sent
    with the statement, a customer's name or message, must not be in it."""
    engine = create_engine(ServiceSettings(database_url=database_url).async_database_url)
    secret = "สมหญิง ใจดี 081-234-5678"
    try:
        async with engine.connect() as connection:
            with pytest.raises(DBAPIError) as failed:
                await connection.execute(text("SELECT CAST(:name AS text), 1 / 0"), {"name": secret})
    finally:
        await engine.dispose()
    message = str(failed.value)
    assert "SELECT CAST" in message, "the statement is still named"
    assert secret not in message
    assert "hidden" in message
