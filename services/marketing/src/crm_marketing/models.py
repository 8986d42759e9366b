"""The marketing schema: the ad accounts' structure (campaigns, ad sets, ads), insights at ad
level per day and per hour, and the sync runs that fetched them.

Ids are Meta's (numeric strings); an account id is stored without its `act_` prefix. Money is THB
(the account currency) as exact numeric; Meta's budgets arrive in minor units and are stored
divided by 100.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

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


insights_daily = Table(
    "insights_daily",
    metadata,
    *_insight_columns(),
    Column("reach", BigInteger),
    # Reports read an account's date range, rolled up by campaign or ad set.
    Index("insights_daily_by_day", "account_id", "day"),
)
insights_hourly = Table(
    "insights_hourly",
    metadata,
    *_insight_columns(),
    Column("hour", SmallInteger, primary_key=True),
    Index("insights_hourly_by_day", "account_id", "day"),
)


ad_accounts = Table(
    "ad_accounts",
    metadata,
    Column("account_id", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("timezone_name", Text, nullable=False),
    Column("account_status", Integer),
    Column("synced_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def _object_columns() -> list[Column]:  # type: ignore[type-arg]
    """What campaigns, ad sets and ads share; archived and deleted ones are kept for their names."""
    return [
        Column("id", String(32), primary_key=True),
        Column("account_id", String(32), nullable=False, index=True),
        Column("name", Text, nullable=False),
        Column("status", String(32)),
        Column("effective_status", String(32)),
        Column("created_time", DateTime(timezone=True)),
        Column("updated_time", DateTime(timezone=True)),
        Column("synced_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ]


campaigns = Table(
    "campaigns",
    metadata,
    *_object_columns(),
    Column("objective", String(64)),
    Column("daily_budget", Numeric(14, 2)),
    Column("lifetime_budget", Numeric(14, 2)),
)
adsets = Table(
    "adsets",
    metadata,
    *_object_columns(),
    Column("campaign_id", String(32), nullable=False, index=True),
    Column("daily_budget", Numeric(14, 2)),
    Column("lifetime_budget", Numeric(14, 2)),
)
ads = Table(
    "ads",
    metadata,
    *_object_columns(),
    Column("campaign_id", String(32), nullable=False, index=True),
    Column("adset_id", String(32), nullable=False, index=True),
)

# The incremental cursor of the structure sync: the newest `updated_time` of a listing that
# completed. Stored only once a whole listing was read, so a run cut short never skips objects.
structure_cursors = Table(
    "structure_cursors",
    metadata,
    Column("account_id", String(32), primary_key=True),
    Column("level", String(16), primary_key=True),
    Column("updated_since", DateTime(timezone=True), nullable=False),
)

RUN_KINDS = ("hourly", "daily", "backfill")
RUN_STATUSES = ("queued", "running", "succeeded", "failed", "stopped")

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("account_id", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("since", Date, nullable=False),
    Column("until", Date, nullable=False),
    # Which insight tables the run fills: {"day"}, {"hour"} or both.
    Column("granularities", ARRAY(Text), nullable=False),
    # Schedules enqueue at most one run per slot (e.g. "hourly:2026-11-22T10"), whichever
    # replica gets there first.
    Column("slot", Text, unique=True),
    Column("requested_by", Text, nullable=False),
    Column("status", String(16), nullable=False, server_default="queued"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("started_at", DateTime(timezone=True)),
    Column("heartbeat_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("jobs_total", Integer, nullable=False, server_default="0"),
    Column("jobs_done", Integer, nullable=False, server_default="0"),
    Column("rows_fetched", BigInteger, nullable=False, server_default="0"),
    Column("rows_changed", BigInteger, nullable=False, server_default="0"),
    Column("api_calls", Integer, nullable=False, server_default="0"),
    Column("retries", Integer, nullable=False, server_default="0"),
    Column("throttle_waits", Integer, nullable=False, server_default="0"),
    Column("throttle_wait_seconds", Numeric(12, 3), nullable=False, server_default="0"),
    Column("error_code", Integer),
    Column("error", Text),
    CheckConstraint(f"kind IN {RUN_KINDS}", name="kind"),
    CheckConstraint(f"status IN {RUN_STATUSES}", name="status"),
    CheckConstraint("since <= until", name="range"),
    Index("sync_runs_queued", "created_at", postgresql_where="status = 'queued'"),
    Index("sync_runs_recent", "created_at"),
)
