"""The replies the ai composed (one per customer message)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, String, Table, Text, func
from sqlalchemy.dialects.postgresql import UUID

from crm_ai.db import metadata

replies = Table(
    "replies",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("source_event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("conversation_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("psid", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("language", String(8), nullable=False),
    Column("generated_by", String(16), nullable=False),
    Column("model", String(64)),
    Column("handover", Boolean, nullable=False),
    Column("handover_reason", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
