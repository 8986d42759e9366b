"""The dashboards' answers. Money is THB as exact decimal strings; every ratio is the contract's
`Kpis` (`crm_contracts.analytics.kpis`), worked out from summed counts, never averaged."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from crm_contracts import RefreshReason
from crm_contracts.analytics import Attribution, CohortWindow, Kpis

SummaryPeriodName = Literal["today", "yesterday", "last_7_days", "last_30_days", "month_to_date"]
PeriodName = Literal[SummaryPeriodName, "range"]

KPIS_EXAMPLE: dict[str, JsonValue] = {
    "spend": "500.50",
    "revenue": "16500.00",
    "attributed_revenue": "13500.00",
    "leads": 1,
    "conversations_started": 3,
    "paid_orders": 3,
    "new_paying_customers": 3,
    "converted_leads": 0,
    "roas": "26.97",
    "cac": "166.83",
    "aov": "5500.00",
    "cost_per_lead": "500.50",
    "cost_per_conversation": "166.83",
    "conversion_rate": "0.0000",
}
META_EXAMPLE: dict[str, JsonValue] = {
    "impressions": 48210,
    "clicks": 913,
    "conversations_started": 41,
    "leads": 2,
    "purchases": 3,
    "purchase_value": "15000.00",
}
POINT_EXAMPLE: dict[str, JsonValue] = {
    "spend": "500.50",
    "revenue": "16500.00",
    "attributed_revenue": "13500.00",
    "leads": 1,
    "paid_orders": 3,
    "roas": "26.97",
    "cost_per_lead": "500.50",
}


class SnapshotProblemOut(BaseModel):
    file: str = Field(examples=["analytics/daily_2026-11-01.json"])
    problem: Literal["unreadable", "invalid", "mismatched"] = Field(
        description="`unreadable`: the file system refused it; `invalid`: not a snapshot of its kind "
        "(or of a newer format); `mismatched`: a snapshot of another period than its name says."
    )


class Freshness(BaseModel):
    """How current an answer is: from the cache-writer's heartbeat (`analytics/state.json`) and the
    snapshot files the answer was made of. A stale answer is served all the same, and a refresh of
    its days is asked of the cache-writer."""

    generated_at: datetime | None = Field(
        description="When the newest snapshot used was written; null when there was none. The "
        "cache-writer rewrites only days that changed, so an old file is normally still right."
    )
    last_event_at: datetime | None = Field(
        description="When the newest event those snapshots reflect happened; null when none does."
    )
    rendered_at: datetime | None = Field(
        default=None,
        description="The cache-writer's last heartbeat: when its renderer last ran (every 30 s or "
        "so while it is up); null when there is no usable heartbeat.",
    )
    age_seconds: int | None = Field(
        description="How old the data may be, in seconds (also the `Age` header): since the "
        "cache-writer last caught up (every event it had stored by then is in the files), or, "
        "without a heartbeat saying so, since `generated_at`; null when neither is known."
    )
    stale: bool = Field(
        description="True when the cache-writer's heartbeat is missing or unusable, older than "
        "`CRM_DASHBOARD_STALE_AFTER_SECONDS` (120 s by default: the cache-writer is down or stuck), "
        "or says days are still waiting to be rendered. The figures are the files' all the same."
    )
    stale_reason: RefreshReason | None = Field(
        default=None,
        description="Why the answer is stale: `no_heartbeat`, `heartbeat_old` or `days_pending`; "
        "null when it is not.",
    )
    problems: list[SnapshotProblemOut] = Field(
        description="Snapshot files that were there but could not be used; each counts as missing "
        "(zero figures; a month's own days are used instead of its file). Empty normally."
    )


class MetaNumbers(BaseModel):
    """Meta's own numbers, as synced: shown beside the CRM's, never mixed into them."""

    model_config = ConfigDict(json_schema_extra={"examples": [META_EXAMPLE]})

    impressions: int
    clicks: int
    conversations_started: int = Field(description="Messaging conversations started.")
    leads: int
    purchases: int
    purchase_value: Decimal


class PeriodOut(BaseModel):
    name: PeriodName = Field(description="A summary period, or `range` for `since`..`until`.")
    since: date
    until: date = Field(description="Inclusive.")
    kpis: Kpis = Field(
        description="The account's KPIs: ROAS counts attributed revenue only; AOV and CAC count "
        "every order and every new paying customer.",
        examples=[KPIS_EXAMPLE],
    )
    meta: MetaNumbers
    unattributed_revenue: Decimal = Field(description="Revenue no ad is credited with (THB).")
    spend: Decimal = Field(description="Meta's daily rows (THB).", examples=["500.50"])
    spend_hourly: Decimal = Field(description="Meta's hourly rows summed (THB).", examples=["498.20"])
    spend_hourly_difference: Decimal = Field(
        description="`spend_hourly` − `spend`: negative while the hourly rows are behind.", examples=["-2.30"]
    )


class SummaryOut(Freshness):
    attribution: Attribution
    cohort_window: CohortWindow
    periods: list[PeriodOut] = Field(
        description="`today`, `yesterday`, `last_7_days`, `last_30_days`, `month_to_date`; or one "
        "`range` when `since` or `until` is given."
    )


class SeriesPoint(BaseModel):
    spend: Decimal
    revenue: Decimal = Field(description="Received minus refunded, every order (THB).")
    attributed_revenue: Decimal = Field(description="The part of `revenue` credited to ads.")
    leads: int
    paid_orders: int
    roas: Decimal | None = Field(description="Attributed revenue / spend; null without spend.")
    cost_per_lead: Decimal | None = Field(description="Spend / leads; null without leads.")


class DayPoint(SeriesPoint):
    model_config = ConfigDict(json_schema_extra={"examples": [{"day": "2026-11-01", **POINT_EXAMPLE}]})

    day: date


class MonthPoint(SeriesPoint):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"month": "2026-11", "since": "2026-11-01", "until": "2026-11-30", **POINT_EXAMPLE}]
        }
    )

    month: str = Field(examples=["2026-11"])
    since: date
    until: date


class DailyOut(Freshness):
    attribution: Attribution
    cohort_window: CohortWindow
    since: date
    until: date
    points: list[DayPoint] = Field(
        description="One per Bangkok day, oldest first; zeros on a day without a file."
    )
    totals: Kpis = Field(description="The whole range's KPIs.", examples=[KPIS_EXAMPLE])


class MonthlyOut(Freshness):
    attribution: Attribution
    cohort_window: CohortWindow
    since: str = Field(examples=["2026-01"])
    until: str = Field(examples=["2026-12"])
    points: list[MonthPoint] = Field(description="One per Bangkok month, oldest first.")
    totals: Kpis = Field(description="The whole range's KPIs.", examples=[KPIS_EXAMPLE])


class NodeOut(BaseModel):
    kpis: Kpis = Field(
        description="What the ads below are credited with under the chosen attribution.",
        examples=[KPIS_EXAMPLE],
    )
    meta: MetaNumbers


class AdOut(NodeOut):
    ad_id: str = Field(examples=["120210000000000001"])
    ad_name: str | None
    status: str | None = Field(examples=["ACTIVE"])


class AdSetOut(NodeOut):
    adset_id: str = Field(description="`unknown` for ads marketing has not described (yet).")
    adset_name: str | None
    ads: list[AdOut]


class CampaignOut(NodeOut):
    campaign_id: str = Field(description="`unknown` for ads marketing has not described (yet).")
    campaign_name: str | None
    adsets: list[AdSetOut]


class CampaignsOut(Freshness):
    attribution: Attribution
    cohort_window: CohortWindow
    since: date
    until: date
    campaigns: list[CampaignOut] = Field(
        description="By spend, highest first (then by id); ad sets and ads likewise."
    )
    unattributed: NodeOut = Field(
        description="What no ad explains: revenue, paid orders and new paying customers (no spend)."
    )
    total: NodeOut = Field(description="The whole account: every ad plus `unattributed`.")
