"""The conversations staff see: one per (Page, PSID), its messages in both directions, and the
customers' reactions to them. Who answers (handover), the read state, the receipts' watermarks
and the customer's public profile are columns of the conversation."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from crm_messenger.db import metadata

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
    Column("last_message_at", DateTime(timezone=True), index=True),
    Column("unread_count", Integer, nullable=False, server_default="0"),
    # When staff took over, and when they last acted: the AI resumes after an idle period.
    Column("human_since", DateTime(timezone=True)),
    Column("last_staff_activity_at", DateTime(timezone=True)),
    # Receipts: everything we sent up to these times was delivered / read.
    Column("delivered_watermark", DateTime(timezone=True)),
    Column("read_watermark", DateTime(timezone=True)),
    # The customer's public profile from the Graph API, fetched once and refreshed rarely.
    Column("first_name", Text),
    Column("last_name", Text),
    Column("profile_pic", Text),
    Column("profile_fetched_at", DateTime(timezone=True)),
    Column("profile_attempts", Integer, nullable=False, server_default="0"),
    Column("profile_next_attempt_at", DateTime(timezone=True), server_default=func.now()),
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
    # text | attachment | quick_reply | postback (in); text (out)
    Column("kind", String(16), nullable=False, server_default="text"),
    # Meta's id; for outbound messages it is known once Meta accepted them.
    Column("mid", String(255)),
    Column("text", Text),
    Column("attachments", JSONB, nullable=False, server_default="[]"),
    Column("quick_reply_payload", Text),
    Column("postback_payload", Text),
    # Quick replies we offered with an outbound message.
    Column("quick_replies", JSONB, nullable=False, server_default="[]"),
    # An AI reply's knowledge passages (document id, title, headings, score; never their text),
    # on its last part: what staff see it was grounded on.
    Column("sources", JSONB, nullable=False, server_default="[]"),
    Column("standby", Boolean, nullable=False, server_default="false"),
    Column("referral", JSONB),
    Column("sent_at", DateTime(timezone=True)),
    # inbound: received; outbound: pending -> sending -> sent | failed
    Column("status", String(16), nullable=False),
    Column("sent_by", String(16)),  # customer | ai | staff | page_inbox
    Column("staff_id", UUID(as_uuid=True)),
    Column("messaging_type", String(16)),  # RESPONSE | MESSAGE_TAG
    Column("tag", String(32)),  # HUMAN_AGENT for a staff reply after 24 hours
    Column("typing", Boolean, nullable=False, server_default="false"),
    # The cause of an outbound message (an event, or a staff request's idempotency key) and the
    # part of a reply split at Messenger's 2,000 characters: each part is sent at most once.
    Column("source_event_id", UUID(as_uuid=True)),
    Column("part", Integer, nullable=False, server_default="0"),
    # outbound: when Meta echoed it (`message_echoes`), the proof it was delivered.
    Column("echoed_at", DateTime(timezone=True)),
    Column("delivered_at", DateTime(timezone=True)),
    Column("read_at", DateTime(timezone=True)),
    Column("error_code", Integer),
    Column("error_subcode", Integer),
    Column("error_reason", Text),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("page_id", "mid"),
    UniqueConstraint("source_event_id", "part"),
)

reactions = Table(
    "reactions",
    metadata,
    Column("page_id", String(64), primary_key=True),
    Column("mid", String(255), primary_key=True),
    Column("psid", String(64), primary_key=True),
    Column("reaction", String(16), nullable=False),
    Column("emoji", Text),
    Column("reacted_at", DateTime(timezone=True), nullable=False),
)
