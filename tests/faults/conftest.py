"""The fault drills' world: PostgreSQL and RabbitMQ instances of their own (so that drills may
restart them), the fault proxy between the services and those two, the Meta and Gemini fakes,
and one stack of the five services shared by the drills that do not need servers of their own.

Every drill module marks itself `e2e` (it starts the services as processes, so
`make test-fast` leaves it out) and `faults` (`pytest -m faults` runs the tier alone).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from .proxy import FaultProxy
from .servers import Postgres, RabbitNode, rabbit_home
from .system import DrillSystem, Fakes, start_system


@dataclass
class Servers:
    root: Path
    postgres: Postgres
    rabbit: RabbitNode
    proxy: FaultProxy


@pytest.fixture(scope="package")
def servers_root() -> Iterator[Path]:
    # Not under pytest's tmp_path: its folders are private to root and PostgreSQL runs as the
    # `postgres` user, who must reach its data folder.
    root = Path(tempfile.mkdtemp(prefix="crm-faults-"))
    os.chmod(root, 0o711)  # noqa: S103 - others may pass through, not list or read
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="package")
async def servers(servers_root: Path) -> AsyncIterator[Servers]:
    postgres = Postgres(servers_root / "postgres")
    # A node name of this run's own: a node a killed run left behind cannot be in the way.
    name = f"crmfaults{uuid.uuid4().hex[:6]}"
    rabbit = RabbitNode(servers_root / "rabbitmq", name, rabbit_home(servers_root / "rabbitmq", name.upper()))
    rabbit.prepare()
    proxy = FaultProxy().start()

    def start_postgres() -> None:
        postgres.init().start()

    try:
        outcomes = await asyncio.gather(
            asyncio.to_thread(start_postgres), asyncio.to_thread(rabbit.start), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        yield Servers(servers_root, postgres, rabbit, proxy)
    finally:
        proxy.stop()
        await asyncio.to_thread(rabbit.stop)
        await asyncio.to_thread(postgres.destroy)


async def create_database(postgres: Postgres, name: str) -> str:
    conn = await asyncpg.connect(postgres.admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return postgres.url(name)


@pytest.fixture(scope="package")
def fakes() -> Iterator[Fakes]:
    fakes = Fakes().start()
    yield fakes
    fakes.stop()


@pytest.fixture(scope="package")
async def system(
    servers: Servers, fakes: Fakes, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DrillSystem]:
    """The five services, connected to PostgreSQL and RabbitMQ through the fault proxy."""
    database_url = await create_database(servers.postgres, "crm")
    pg = servers.proxy.route("postgres", [("127.0.0.1", servers.postgres.port)])
    amqp = servers.proxy.route("rabbitmq", [("127.0.0.1", servers.rabbit.port)])
    system = await start_system(
        root=tmp_path_factory.mktemp("faults-stack"),
        database_url=database_url,
        rabbitmq_url=servers.rabbit.url,
        fakes=fakes,
        service_database_url=f"postgresql://postgres@127.0.0.1:{pg}/crm",
        service_rabbitmq_url=f"amqp://guest:guest@127.0.0.1:{amqp}/",
    )
    try:
        yield system
    finally:
        await asyncio.to_thread(system.stack.stop)
