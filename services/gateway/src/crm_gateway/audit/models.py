"""The audit log: who changed what, when."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from crm_gateway.db import metadata

# Who changed what, when; before/after of changed fields with personal data masked. A merge
# also keeps `undo` (the state to restore, unmasked) until an admin undoes it or the customer
# is erased.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor_id", UUID(as_uuid=True), nullable=True, comment="Null: the system."),
    Column("actor_role", Text, nullable=True),
    Column("action", Text, nullable=False, comment="e.g. customer.update, order.pay, staff.deactivate"),
    Column("entity_type", Text, nullable=False),
    Column("entity_id", Text, nullable=False),
    Column("changes", JSONB, nullable=False, server_default="{}"),
    Column("undo", JSONB, nullable=True),
    Column("undone_at", DateTime(timezone=True), nullable=True),
    Column("undone_by", UUID(as_uuid=True), nullable=True),
    Index("ix_gateway_audit_log_entity", "entity_type", "entity_id", "at"),
    Index("ix_gateway_audit_log_actor", "actor_id", "at"),
    Index("ix_gateway_audit_log_action", "action", "at"),
    Index("ix_gateway_audit_log_at", "at"),
)
