"""The marketing schema: insights at ad level per day and per hour (campaign structure and sync
runs come with the rest of the Marketing API sync)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, Integer, Numeric, SmallInteger, String, Table, func
from sqlalchemy.dialects.postgresql import JSONB

from crm_servicekit.db import inbox_table, outbox_table, service_metadata

SCHEMA = "marketing"
metadata = service_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)


def _insight_columns() -> list[Column]:  # type: ignore[type-arg]
    return [
        Column("account_id", String(32), primary_key=True),
        Column("ad_id", String(32), primary_key=True),
        Column("day", Date, primary_key=True),
        Column("campaign_id", String(32)),
        Column("adset_id", String(32)),
        # Money in THB with exact decimals (Meta sends strings); never float.
        Column("spend", Numeric(14, 2), nullable=False),
        Column("impressions", BigInteger, nullable=False),
        Column("clicks", BigInteger, nullable=False),
        Column("link_clicks", BigInteger, nullable=False),
        Column("ctr", Numeric(12, 6)),
        Column("cpc", Numeric(14, 4)),
        Column("messaging_conversations_started", Integer, nullable=False),
        Column("leads", Integer, nullable=False),
        Column("purchases", Integer, nullable=False),
        Column("purchase_value", Numeric(14, 2), nullable=False),
        # Meta's lists kept whole (with the attribution windows requested).
        Column("actions", JSONB, nullable=False, server_default="[]"),
        Column("action_values", JSONB, nullable=False, server_default="[]"),
        Column("purchase_roas", JSONB, nullable=False, server_default="[]"),
        Column("synced_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ]


insights_daily = Table("insights_daily", metadata, *_insight_columns(), Column("reach", BigInteger))
insights_hourly = Table(
    "insights_hourly",
    metadata,
    *_insight_columns(),
    Column("hour", SmallInteger, primary_key=True),
)
