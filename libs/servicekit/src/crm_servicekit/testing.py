"""Test plumbing for the real PostgreSQL and RabbitMQ of the machine (never mocks).

Each test session gets its own database and its own RabbitMQ virtual host, so runs never see
each other's rows or queues. Loaded by the repository's root `conftest.py`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import pytest

T = TypeVar("T")

ADMIN_DATABASE_URL = os.environ.get("CRM_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ADMIN_RABBITMQ_URL = os.environ.get("CRM_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


async def create_database(prefix: str = "crm_test") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(ADMIN_DATABASE_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return _with_path(ADMIN_DATABASE_URL, f"/{name}")


async def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    conn = await asyncpg.connect(ADMIN_DATABASE_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _rabbitmqctl(*args: str) -> None:
    exe = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    subprocess.run([exe, "-q", *args], check=True, capture_output=True, timeout=60)  # noqa: S603


def create_vhost(prefix: str = "crm-test") -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    user = urlsplit(ADMIN_RABBITMQ_URL).username or "guest"
    _rabbitmqctl("add_vhost", name)
    _rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
    return _with_path(ADMIN_RABBITMQ_URL, "/" + quote(name, safe=""))


def delete_vhost(url: str) -> None:
    from urllib.parse import unquote

    _rabbitmqctl("delete_vhost", unquote(urlsplit(url).path.lstrip("/")))


@pytest.fixture(scope="module")
def rabbitmq_url() -> Iterator[str]:
    """A fresh RabbitMQ virtual host for each test module: no queue outlives its tests."""
    url = create_vhost()
    yield url
    delete_vhost(url)


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for this test session."""
    url = await create_database()
    yield url
    await drop_database(url)


async def eventually(
    check: Callable[[], Awaitable[T | None]], *, timeout: float = 10.0, interval: float = 0.05
) -> T:
    """Poll an async `check()` until it returns something truthy, or fail after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {result!r})")
        await asyncio.sleep(interval)


class EventRecorder:
    """Records every event on `crm.events`, through a real queue bound with `#`."""

    def __init__(self, rabbitmq_url: str) -> None:
        from faststream.rabbit import RabbitBroker, RabbitQueue

        from .broker import EVENTS_EXCHANGE

        self.events: list[dict[str, Any]] = []
        self.broker = RabbitBroker(rabbitmq_url, logger=None)
        queue = RabbitQueue(
            f"test.recorder.{uuid.uuid4().hex[:8]}", auto_delete=True, exclusive=True, routing_key="#"
        )

        @self.broker.subscriber(queue, EVENTS_EXCHANGE)
        async def record(body: dict[str, Any]) -> None:
            self.events.append(body)

    async def __aenter__(self) -> EventRecorder:
        await self.broker.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.broker.stop()

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == event_type]

    async def wait_for(self, event_type: str, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        async def enough() -> list[dict[str, Any]]:
            found = self.of_type(event_type)
            return found if len(found) >= count else []

        return await eventually(enough, timeout=timeout)


async def publish_events(broker: Any, *events: Any) -> None:
    """Publish events on `crm.events` as a service's outbox does (routing key = type, message id =
    event id), through a running FastStream broker, e.g. `app.state.runtime.broker`."""
    from .broker import EVENTS_EXCHANGE

    for event in events:
        await broker.publish(
            event.model_dump_json().encode(),
            exchange=EVENTS_EXCHANGE,
            routing_key=event.type,
            message_id=str(event.event_id),
            content_type="application/json",
            persist=True,
        )


async def publish_to(rabbitmq_url: str, *events: Any) -> None:
    """`publish_events` through a broker connection of its own (no service running in-process)."""
    from faststream.rabbit import RabbitBroker

    async with RabbitBroker(rabbitmq_url, logger=None) as broker:
        await publish_events(broker, *events)
