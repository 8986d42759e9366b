"""The messenger's schema: conversations, messages (both directions), quarantined events."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from crm_servicekit.db import inbox_table, outbox_table, service_metadata

SCHEMA = "messenger"
metadata = service_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

conversations = Table(
    "conversations",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("page_id", String(64), nullable=False),
    Column("psid", String(64), nullable=False),
    Column("status", String(16), nullable=False, server_default="open"),
    # `ai`: the AI answers; `human`: staff answer and the AI stays quiet.
    Column("mode", String(16), nullable=False, server_default="ai"),
    Column("needs_human", Boolean, nullable=False, server_default="false"),
    Column("handover_reason", String(64)),
    Column("assigned_staff_id", UUID(as_uuid=True)),
    Column("last_customer_message_at", DateTime(timezone=True)),
    Column("unread_count", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("page_id", "psid"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("conversation_id", UUID(as_uuid=True), ForeignKey(conversations.c.id), nullable=False, index=True),
    Column("page_id", String(64), nullable=False),
    Column("direction", String(8), nullable=False),  # in | out
    # Meta's id; for outbound messages it is known once Meta accepted them.
    Column("mid", String(255)),
    Column("text", Text),
    Column("attachments", JSONB, nullable=False, server_default="[]"),
    Column("quick_reply_payload", Text),
    Column("referral", JSONB),
    Column("sent_at", DateTime(timezone=True)),
    # inbound: received; outbound: pending -> sending -> sent | failed
    Column("status", String(16), nullable=False),
    Column("sent_by", String(8)),  # ai | staff (outbound)
    # The event that caused an outbound message: a reply is sent at most once per cause.
    Column("source_event_id", UUID(as_uuid=True), unique=True),
    Column("error_code", Integer),
    Column("error_subcode", Integer),
    Column("error_reason", Text),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("page_id", "mid"),
)

quarantined_events = Table(
    "quarantined_events",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("page_id", String(64)),
    Column("kind", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("payload", JSONB, nullable=False),
)
