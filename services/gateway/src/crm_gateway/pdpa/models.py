"""PDPA erasure requests and each service's report on them."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from crm_gateway.db import metadata

ERASURE_SERVICES = ("gateway", "messenger", "ai", "cache-writer")

erasure_requests = Table(
    "erasure_requests",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()),
    Column("customer_id", String(40), ForeignKey("gateway.customers.id"), nullable=False, index=True),
    Column("requested_by", UUID(as_uuid=True), nullable=True),
    Column("requested_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("completed_at", DateTime(timezone=True), nullable=True),
)

erasure_steps = Table(
    "erasure_steps",
    metadata,
    Column(
        "request_id",
        UUID(as_uuid=True),
        ForeignKey("gateway.erasure_requests.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("service", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("erased", JSONB, nullable=False, server_default="{}"),
    Column("detail", Text, nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    PrimaryKeyConstraint("request_id", "service"),
    CheckConstraint("status IN ('pending', 'completed', 'failed')", name="status"),
)
