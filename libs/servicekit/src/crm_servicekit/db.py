"""SQLAlchemy 2 async + asyncpg: engine, sessions, and the outbox/inbox tables every service has."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    MetaData,
    String,
    Table,
    event,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from .sqltrace import trace_statements

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata(schema: str) -> MetaData:
    """The metadata of one service: every table in its own PostgreSQL schema."""
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def outbox_table(metadata: MetaData) -> Table:
    """Events written in the same transaction as the change that caused them."""
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("type", String(100), nullable=False),
        Column("payload", JSONB, nullable=False),
        # W3C trace context of the transaction, so a relayed event stays in its trace.
        Column("headers", JSONB, nullable=False, server_default="{}"),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def inbox_table(metadata: MetaData) -> Table:
    """Event ids a consumer has handled, written in the same transaction as its effect."""
    return Table(
        "inbox",
        metadata,
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("consumer", String(100), primary_key=True),
        Column("handled_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def create_engine(url: str, *, pool_size: int = 10, application_name: str | None = None) -> AsyncEngine:
    """The service's engine. `application_name` names its connections in `pg_stat_activity`."""
    connect_args = {"server_settings": {"application_name": application_name}} if application_name else {}
    # Recycled after half an hour; no ping round trip before every checkout (`pool_pre_ping`
    # costs one per unit of work): see `_replace_closed_connections` instead.
    # `hide_parameters`: an error's text (logged by uvicorn or FastStream on an unhandled one)
    # names the statement but never its values, which can be a customer's name or message.
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=10,
        pool_recycle=1800,
        connect_args=connect_args,
        hide_parameters=True,
    )
    event.listen(engine.sync_engine, "checkout", _replace_closed_connections)
    trace_statements(engine.sync_engine)  # one span per statement (sqltrace.py)
    return engine


def _replace_closed_connections(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection the server has closed (a restart, `pg_terminate_backend`, a failover)
    is replaced at checkout, without a round trip: asyncpg marks a connection closed as soon as
    the server's goodbye or the socket's end arrives, and SQLAlchemy retries the checkout on a
    new connection when this raises `DisconnectionError`. A connection that breaks later, in the
    middle of a statement, fails that one request (503, see `unavailable.py`) and SQLAlchemy
    invalidates the pool, so the next request reconnects."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
