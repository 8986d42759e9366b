"""The replies the ai composed (one per customer message), the passages each was grounded on,
and the latest draft suggested to staff in each conversation they handle."""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

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
    # Why, in the model's words, when it asked for a person (`model_needs_human`).
    Column("handover_detail", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# The knowledge passages a reply was grounded on (where from, not their text).
reply_sources = Table(
    "reply_sources",
    metadata,
    Column("reply_id", UUID(as_uuid=True), ForeignKey("ai.replies.id", ondelete="CASCADE"), nullable=False),
    Column("rank", Integer, nullable=False),
    Column("chunk_id", UUID(as_uuid=True), nullable=False),
    Column("document_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("heading_path", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("score", Float, nullable=False),
    PrimaryKeyConstraint("reply_id", "rank"),
)

# The latest reply drafted for staff in a conversation they handle (one row: the latest wins).
suggestions = Table(
    "suggestions",
    metadata,
    Column("conversation_id", UUID(as_uuid=True), primary_key=True),
    Column("psid", String(64), nullable=False, index=True),
    Column("source_event_id", UUID(as_uuid=True), nullable=False),
    # When the customer's message was sent: an older message never replaces a newer draft.
    Column("message_at", DateTime(timezone=True), nullable=False),
    Column("text", Text, nullable=False),
    Column("language", String(8), nullable=False),
    Column("sources", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("warnings", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
