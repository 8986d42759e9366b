"""What the intake keeps: webhook bodies as Meta sent them until they are applied, the items that
could not be applied (the quarantine), and the ad referrals and opt-ins Meta reported."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from crm_messenger.db import metadata

referrals = Table(
    "referrals",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column(
        "conversation_id",
        UUID(as_uuid=True),
        ForeignKey("messenger.conversations.id"),
        nullable=False,
        index=True,
    ),
    Column("page_id", String(64), nullable=False),
    Column("psid", String(64), nullable=False),
    Column("source", String(32)),
    Column("type", String(32)),
    Column("ad_id", String(64)),
    Column("ref", Text),
    Column("ads_context_data", JSONB),
    Column("via", String(16), nullable=False),  # message | postback | referral
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("page_id", "psid", "occurred_at", "via"),
)

optins = Table(
    "optins",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("page_id", String(64), nullable=False),
    Column("psid", String(64)),
    Column("user_ref", Text),
    Column("type", String(64)),
    Column("ref", Text),
    Column("payload", JSONB, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    # Either psid or user_ref is absent: NULLs must count as equal for deduplication.
    UniqueConstraint("page_id", "psid", "user_ref", "occurred_at", postgresql_nulls_not_distinct=True),
)

# Webhook bodies as Meta sent them, stored before the 200 and processed right after (ADR 8).
webhook_inbox = Table(
    "webhook_inbox",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("body", JSONB, nullable=False),
    # W3C trace context of the webhook request, so processing continues its trace.
    Column("trace", JSONB, nullable=False, server_default="{}"),
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
