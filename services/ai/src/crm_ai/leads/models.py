"""Leads' scores (one row per Page and PSID) and the latest insights per conversation.

Neither table holds message text or phone numbers: a lead keeps signal codes with when each was
last seen, the times of its recent messages and counts; insights are labels and a summary
written for staff.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, SmallInteger, String, Table, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from crm_ai.db import metadata

lead_scores = Table(
    "lead_scores",
    metadata,
    Column("page_id", String(64), primary_key=True),
    Column("psid", String(64), primary_key=True),
    # The conversation the customer last wrote in (Messenger has one per Page and PSID).
    Column("conversation_id", UUID(as_uuid=True)),
    Column("score", SmallInteger, nullable=False),
    Column("temperature", String(8), nullable=False),
    # {"asked_price": "2026-12-05T11:00:00+00:00", ...}: each signal code and when it was last seen.
    Column("signals", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    # Catalog products the customer named (for insights).
    Column("product_ids", ARRAY(UUID(as_uuid=True)), nullable=False, server_default=text("'{}'")),
    # Times of the messages inside the engagement window (older ones are pruned).
    Column("message_times", ARRAY(DateTime(timezone=True)), nullable=False, server_default=text("'{}'")),
    Column("message_count", Integer, nullable=False, server_default=text("0")),
    Column("language", String(8)),
    Column("last_message_at", DateTime(timezone=True)),
    # The last message, or when the contact arrived: what decay counts quiet days from.
    Column("last_activity_at", DateTime(timezone=True), nullable=False, index=True),
    # Quiet days already reflected in `score` (the decay sweep looks for leads past the next one).
    Column("quiet_days", Integer, nullable=False, server_default=text("0")),
    # `message_count` when insights were last produced (or claimed): more means new messages.
    Column("insight_message_count", Integer, nullable=False, server_default=text("0")),
    Column("scored_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

customer_insights = Table(
    "customer_insights",
    metadata,
    Column("conversation_id", UUID(as_uuid=True), primary_key=True),
    Column("page_id", String(64), nullable=False),
    Column("psid", String(64), nullable=False, index=True),
    Column("intent", Text),
    Column("interested_product_ids", ARRAY(UUID(as_uuid=True)), nullable=False, server_default=text("'{}'")),
    Column("preferred_schedule", Text),
    Column("budget", Text),
    Column("objections", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("language", String(8)),
    Column("next_best_action", Text),
    Column("summary", Text, nullable=False),
    Column("source", String(8), nullable=False),
    Column("model", String(64)),
    # The customer's message count the insights were produced from.
    Column("message_count", Integer, nullable=False),
    Column("generated_at", DateTime(timezone=True), nullable=False),
)
