"""The cache-writer's own schema: the inbox, the customer read model it renders from, and the
tombstones of customers erased or merged away."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, String, Table, func
from sqlalchemy.dialects.postgresql import JSONB, UUID

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

# A customer whose snapshot must not come back: erased (PDPA), or merged into another customer.
# Only ids and times: a late `customer.created/updated` about them up to `at` is ignored. A merge
# undone is lifted (`lifted_at`), and the row stays so that a merge seen after its undo is ignored.
customer_tombstones = Table(
    "customer_tombstones",
    metadata,
    Column("customer_id", String(40), primary_key=True),
    Column("reason", String(16), nullable=False),  # erased | merged
    Column("merged_into", String(40)),
    Column("merge_id", UUID(as_uuid=True)),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("lifted_at", DateTime(timezone=True)),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
