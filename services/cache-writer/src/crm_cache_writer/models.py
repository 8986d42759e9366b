"""The cache-writer's own schema: the inbox, and the customer read model it renders from."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, String, Table
from sqlalchemy.dialects.postgresql import JSONB

from crm_servicekit.db import inbox_table, outbox_table, service_metadata

SCHEMA = "cache_writer"
metadata = service_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

customer_snapshots = Table(
    "customer_snapshots",
    metadata,
    Column("customer_id", String(40), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("snapshot", JSONB, nullable=False),
)
