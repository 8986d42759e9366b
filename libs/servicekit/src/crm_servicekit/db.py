"""SQLAlchemy 2 async + asyncpg: engine, sessions, and the outbox/inbox tables every service has."""

from __future__ import annotations

from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    MetaData,
    String,
    Table,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

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


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    # No ping before every checkout (a round trip per unit of work); connections are recycled
    # instead, and a connection that broke fails one unit of work, which the broker retries.
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=10, pool_recycle=1800)
    SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine, enable_commenter=False)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
