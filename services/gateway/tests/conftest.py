"""The gateway under test: migrated once per session, run in-process inside its lifespan (one
app per test module, like the RabbitMQ virtual host it uses) against the real PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text

from crm_contracts import AdReferral, ContactSeen, ContactSeenData
from crm_gateway.app import create_app
from crm_gateway.config import GatewaySettings
from crm_servicekit.migrations import upgrade
from crm_servicekit.runtime import Runtime

ADMIN_EMAIL = "Admin@VSchool.example"
ADMIN_PASSWORD = "correct horse battery staple"
JWT_SECRET = "test-secret-of-the-gateway-suite-0123456789abcdef"
INTERNAL_TOKEN = "test-internal-token-of-the-gateway-suite"


@pytest.fixture(scope="session")
async def migrated_database_url(database_url: str) -> str:
    asyncpg_url = database_url.replace("postgresql://", "postgresql+asyncpg://", 1)
    await asyncio.to_thread(upgrade, "crm_gateway", asyncpg_url)
    return database_url


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def unused_port() -> int:
    """A loopback port nothing listens on (the OS just handed it out and it was closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def messenger_url() -> str:
    """Where the messenger's internal API is: nowhere, unless a module starts a fake there."""
    return f"http://127.0.0.1:{unused_port()}"


@pytest.fixture(scope="module")
def marketing_url() -> str:
    """Where the marketing service's internal API is: nowhere, unless a module serves it there."""
    return f"http://127.0.0.1:{unused_port()}"


@pytest.fixture(scope="module")
def settings(
    migrated_database_url: str, rabbitmq_url: str, cache_dir: Path, messenger_url: str, marketing_url: str
) -> GatewaySettings:
    return GatewaySettings(
        database_url=migrated_database_url,
        rabbitmq_url=rabbitmq_url,
        crm_cache_dir=cache_dir,
        crm_admin_email=ADMIN_EMAIL,
        crm_admin_password=SecretStr(ADMIN_PASSWORD),
        crm_jwt_secret=SecretStr(JWT_SECRET),
        messenger_internal_url=messenger_url,
        marketing_internal_url=marketing_url,
        crm_internal_token=SecretStr(INTERNAL_TOKEN),
        outbox_relay_interval_seconds=0.5,
    )


@pytest.fixture(scope="module")
async def app(settings: GatewaySettings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="module")
def runtime(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


@pytest.fixture(scope="module")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


@pytest.fixture(scope="module")
async def admin_token(client: httpx.AsyncClient) -> str:
    response = await client.post(
        "/api/v1/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture(scope="module")
def auth(admin_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token}"}


@pytest.fixture
async def no_customers(runtime: Runtime, cache_dir: Path) -> None:
    """Start a test with no customers, counters, handled events or snapshot files."""
    async with runtime.engine.begin() as conn:
        await conn.execute(
            text(
                "TRUNCATE gateway.payments, gateway.order_lines, gateway.orders, gateway.customer_identities,"
                " gateway.customers, gateway.customer_id_sequences, gateway.inbox, gateway.outbox,"
                " gateway.audit_log CASCADE"
            )
        )
    await asyncio.to_thread(_empty, cache_dir)


def _empty(directory: Path) -> None:
    for child in directory.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()


PAGE_ID = "1029384756"


def contact_seen(
    psid: str, *, ad_id: str | None = None, page_id: str = PAGE_ID, correlation_id: str | None = None
) -> ContactSeen:
    """A `contact.seen` as the messenger publishes it; with an ad referral when `ad_id` is set."""
    referral = (
        AdReferral(source="ADS", type="OPEN_THREAD", ad_id=ad_id, ad_title="Sushi course, May intake")
        if ad_id
        else None
    )
    return ContactSeen(
        correlation_id=correlation_id or f"m_{uuid.uuid4().hex}",
        data=ContactSeenData(
            page_id=page_id,
            psid=psid,
            conversation_id=uuid.uuid4(),
            first_seen_at=datetime.now(UTC),
            referral=referral,
        ),
    )


@pytest.fixture(scope="session")
def make_contact() -> Callable[..., ContactSeen]:
    return contact_seen
