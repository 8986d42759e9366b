"""What every service is made of, wired the same way: settings, tracing, database, broker,
outbox relay and health. A service's `create_app()` builds a `Runtime` and hands it to its
routers and handlers; nothing here connects until the app starts. While the database cannot be
reached, requests are answered 503 (`unavailable.py`) and `/readyz` says not ready (`health.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import APIRouter, FastAPI
from faststream.rabbit import RabbitBroker
from faststream.rabbit.publisher.usecase import RabbitPublisher
from sqlalchemy import MetaData, Table, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from crm_contracts import Event

from . import httptrace
from .broker import EVENTS_EXCHANGE, Topology, create_broker, declare_topology, event_publishers
from .db import create_engine, create_sessionmaker, inbox_table, outbox_table
from .doors import serve
from .health import health_router
from .logging import configure_logging, get_logger
from .migrations import upgrade
from .outbox import OutboxPublisher, UnitOfWork
from .periodic import PeriodicTask
from .secrets_check import enforce as enforce_secrets
from .settings import ServiceSettings
from .tracing import setup_tracing, shutdown_tracing
from .unavailable import install_unavailable_handler

log = get_logger(__name__)

Hook = Callable[[], Awaitable[None]]
# Allocations between young-generation collections (CPython's default is 700).
GC_YOUNG_THRESHOLD = 20_000


@dataclass
class Runtime:
    settings: ServiceSettings
    topology: Topology
    broker: RabbitBroker
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    outbox: OutboxPublisher
    inbox: Table
    publishers: dict[str, RabbitPublisher]
    on_startup: list[Hook] = field(default_factory=list)
    on_shutdown: list[Hook] = field(default_factory=list)
    # Service-specific objects built with the runtime that its routers need (e.g. a sender).
    extras: dict[str, Any] = field(default_factory=dict)

    def uow(self) -> UnitOfWork:
        """A new unit of work: one session, committed once, events published after commit."""
        return UnitOfWork(self.sessionmaker, self.outbox, self.inbox)

    async def database_ready(self) -> bool:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def broker_ready(self) -> bool:
        return await self.broker.ping(timeout=2.0)


def build_runtime(settings: ServiceSettings, metadata: MetaData, emits: Sequence[type[Event]]) -> Runtime:
    """Create (not connect) everything a service needs. `metadata` is the service's own schema."""
    provider = setup_tracing(settings.service_name)
    topology = Topology(settings.service)
    broker = create_broker(settings.rabbitmq_url, topology, provider)
    engine = create_engine(settings.async_database_url, application_name=settings.service_name)
    sessionmaker = create_sessionmaker(engine)
    tables = metadata.tables
    outbox = (
        tables[f"{metadata.schema}.outbox"]
        if f"{metadata.schema}.outbox" in tables
        else outbox_table(metadata)
    )
    inbox = (
        tables[f"{metadata.schema}.inbox"] if f"{metadata.schema}.inbox" in tables else inbox_table(metadata)
    )
    publishers = event_publishers(broker, emits)
    return Runtime(
        settings=settings,
        topology=topology,
        broker=broker,
        engine=engine,
        sessionmaker=sessionmaker,
        outbox=OutboxPublisher(sessionmaker, outbox, publishers),
        inbox=inbox,
        publishers=publishers,
    )


async def declare_all(broker: RabbitBroker, topology: Topology) -> None:
    """Declare the exchange, every subscriber queue with its binding, delay and parking queues.

    Run before any service publishes, so an event never meets an exchange with no queue.
    """
    await broker.connect()
    try:
        await declare_topology(broker, topology)
        exchange = await broker.declare_exchange(EVENTS_EXCHANGE)
        for sub in broker.subscribers:
            queue = await broker.declare_queue(sub.queue)  # type: ignore[attr-defined]
            await queue.bind(exchange, routing_key=sub.queue.routing())  # type: ignore[attr-defined]
    finally:
        await broker.stop()


def create_service_app(
    runtime: Runtime,
    *,
    title: str,
    routers: Sequence[APIRouter] = (),
    description: str = "",
    relay: bool = True,
) -> FastAPI:
    settings = runtime.settings
    interval = settings.outbox_relay_interval_seconds
    outbox_relay = PeriodicTask(
        "outbox-relay", interval, lambda: runtime.outbox.relay_once(older_than_seconds=interval * 2)
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Here, not only in run_cli: each worker process of WEB_CONCURRENCY starts from scratch.
        configure_logging(settings.service_name, settings.log_level)
        await runtime.broker.connect()
        await declare_topology(runtime.broker, runtime.topology)
        await runtime.broker.start()
        if relay:
            await outbox_relay.start()
        for hook in runtime.on_startup:
            await hook()
        # What exists now (modules, app, pools) lives as long as the process: keep the garbage
        # collector from walking it again on every full collection, and collect the young
        # generation less often (allocation-heavy work such as a backfill parses millions of rows).
        gc.collect()
        gc.freeze()
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        log.info("service started", port=settings.port)
        try:
            yield
        finally:
            for hook in reversed(runtime.on_shutdown):
                await hook()
            await outbox_relay.stop()
            await runtime.outbox.drain()
            await runtime.broker.stop()
            await runtime.engine.dispose()
            shutdown_tracing()
            log.info("service stopped")

    app = FastAPI(
        title=title,
        description=description,
        lifespan=lifespan,
        version="0.1.0",
        # One HTTP instrumentation (OpenTelemetry's, below), not two: FastAPI's native telemetry
        # would trace every request again and record exception messages, which can hold personal data.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.runtime = runtime
    # A database that cannot be reached is a 503 with Retry-After, never a 500 (unavailable.py).
    install_unavailable_handler(app)
    app.include_router(health_router({"database": runtime.database_ready, "broker": runtime.broker_ready}))
    for router in routers:
        app.include_router(router)
    # One server span per request, named after its route (no spans per body chunk).
    httptrace.instrument_app(app, excluded_urls="healthz,readyz,metrics")
    return app


S = TypeVar("S", bound=ServiceSettings)


def run_cli(
    package: str,
    settings: S,
    create_app: Callable[[S], FastAPI],
    build: Callable[[S], Runtime],
    argv: Sequence[str] | None = None,
) -> None:
    """`python -m crm_<service> [serve|migrate]`."""
    parser = argparse.ArgumentParser(prog=f"python -m {package}")
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=["serve", "migrate"],
        help="serve: HTTP + consumers on $PORT (default); migrate: apply this service's "
        "database migrations and declare its broker queues",
    )
    args = parser.parse_args(argv)
    configure_logging(settings.service_name, settings.log_level)
    if args.command == "migrate":
        upgrade(package, settings.async_database_url)
        runtime = build(settings)
        asyncio.run(declare_all(runtime.broker, runtime.topology))
        log.info("migrated", service=settings.service)
        return
    # Before anything listens: a secret anyone could know stops the service here (one line, exit 78).
    enforce_secrets(settings)
    # One server on two sockets (ADR 17): everything on INTERNAL_PORT, the public routes on PORT.
    serve(settings, create_app)
