"""What was said in each conversation, so that a reply can follow the thread."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, DateTime, Index, String, Table, Text
from sqlalchemy.dialects.postgresql import UUID

from crm_ai.db import metadata

conversation_turns = Table(
    "conversation_turns",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    # The `message.received` or `message.sent` event: a redelivery adds nothing.
    Column("source_event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("conversation_id", UUID(as_uuid=True), nullable=False),
    Column("page_id", String(64), nullable=False),
    Column("psid", String(64), nullable=False, index=True),
    Column("author", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    CheckConstraint("author IN ('customer', 'ai', 'staff')", name="author"),
    Index("ix_conversation_turns_conversation_at", "conversation_id", "at"),
)
