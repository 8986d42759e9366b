"""The marketing service's internal HTTP API (`/internal/v1`), as the gateway calls it (ADR 7).

Sync runs, the campaign structure and insights belong to the marketing service; the gateway never
reads its tables nor imports its code. The models below are the gateway's own copies of the
shapes marketing answers with (extra fields are ignored, so it may add some), and they are also
what the staff API returns. Money is THB as exact decimals, serialised as strings ("1234.50").
Marketing's errors become the gateway's problems:

    2xx                       the model
    404 (on a sync run)       SyncRunNotFound          404
    409                       MarketingConflict        409, with marketing's `detail`
    400, 422                  MarketingRejected        422, with marketing's `detail`
    no answer, or 503         MarketingUnavailable     503
    anything else             ServiceFailed            502 (logged: a 401 is a token mismatch)
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from crm_gateway.clients.base import InternalApiClient, query
from crm_gateway.clients.errors import (
    MarketingConflict,
    MarketingRejected,
    MarketingUnavailable,
    SyncRunNotFound,
)
from crm_gateway.errors import Problem

RunKind = Literal["hourly", "daily", "backfill"]
RunStatus = Literal["queued", "running", "succeeded", "failed", "stopped"]
Granularity = Literal["day", "hour"]
Level = Literal["account", "campaign", "adset", "ad"]

# --- the shapes, with the examples the OpenAPI document shows ---------------------------------

_ACCOUNT_ID = "1234567890"
SYNC_RUN_EXAMPLE: dict[str, Any] = {
    "id": 42,
    "account_id": _ACCOUNT_ID,
    "kind": "backfill",
    "since": "2026-01-01",
    "until": "2026-03-31",
    "granularities": ["day"],
    "slot": None,
    "requested_by": "admin@vschool.example",
    "status": "succeeded",
    "created_at": "2026-04-01T02:00:00Z",
    "started_at": "2026-04-01T02:00:03Z",
    "heartbeat_at": "2026-04-01T02:06:40Z",
    "finished_at": "2026-04-01T02:06:41Z",
    "jobs_total": 13,
    "jobs_done": 13,
    "rows_fetched": 5460,
    "rows_changed": 5460,
    "api_calls": 58,
    "retries": 1,
    "throttle_waits": 2,
    "throttle_wait_seconds": "61.500",
    "error_code": None,
    "error": None,
}
QUEUED_RUN_EXAMPLE: dict[str, Any] = {
    **SYNC_RUN_EXAMPLE,
    "id": 43,
    "status": "queued",
    "started_at": None,
    "heartbeat_at": None,
    "finished_at": None,
    "jobs_total": 0,
    "jobs_done": 0,
    "rows_fetched": 0,
    "rows_changed": 0,
    "api_calls": 0,
    "retries": 0,
    "throttle_waits": 0,
    "throttle_wait_seconds": "0.000",
}
METRICS_EXAMPLE: dict[str, Any] = {
    "spend": "5339.50",
    "impressions": 361324,
    "clicks": 4210,
    "link_clicks": 3987,
    "messaging_conversations_started": 212,
    "leads": 31,
    "purchases": 6,
    "purchase_value": "89400.00",
    "ctr": "1.17",
    "cpc": "1.27",
    "cpm": "14.78",
    "roas": "16.74",
    "cost_per_lead": "172.24",
    "cost_per_purchase": "889.92",
    "cost_per_conversation": "25.19",
}
_AD_EXAMPLE: dict[str, Any] = {
    "id": "120210000000000003",
    "name": "Video - nigiri in 60 seconds",
    "status": "ACTIVE",
    "effective_status": "ACTIVE",
    "totals": METRICS_EXAMPLE,
}
_ADSET_EXAMPLE: dict[str, Any] = {
    "id": "120210000000000002",
    "name": "Messages - Bangkok 25-45",
    "status": "ACTIVE",
    "effective_status": "ACTIVE",
    "daily_budget": "500.00",
    "lifetime_budget": None,
    "totals": METRICS_EXAMPLE,
    "ads": [_AD_EXAMPLE],
}
_CAMPAIGN_EXAMPLE: dict[str, Any] = {
    "id": "120210000000000001",
    "name": "Sushi course - May intake",
    "status": "ACTIVE",
    "effective_status": "ACTIVE",
    "objective": "OUTCOME_ENGAGEMENT",
    "daily_budget": None,
    "lifetime_budget": None,
    "totals": METRICS_EXAMPLE,
    "adsets": [_ADSET_EXAMPLE],
}
INSIGHT_ROW_EXAMPLE: dict[str, Any] = {
    "id": "120210000000000001",
    "name": "Sushi course - May intake",
    "day": "2026-05-01",
    "hour": None,
    "reach": None,
    **METRICS_EXAMPLE,
}


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


_MONEY = "THB, exact, two decimals (a string)."
_RATIO = "Two decimals, rounded half up; null when its denominator is 0."


class SyncRun(BaseModel):
    """One sync of one ad account's insights from Meta: what it covered, and what it did."""

    model_config = _examples(SYNC_RUN_EXAMPLE, QUEUED_RUN_EXAMPLE)

    id: int
    account_id: str = Field(description="The ad account, without Meta's `act_` prefix.")
    kind: RunKind = Field(
        description="`hourly`: today and yesterday, daily and hourly rows; `daily`: the last weeks' "
        "daily rows (Meta attributes results late); `backfill`: a range staff chose."
    )
    since: date = Field(description="First day covered (the account's days, Asia/Bangkok).")
    until: date = Field(description="Last day covered.")
    granularities: list[Granularity] = Field(description="Which rows it fetches: per day, per hour.")
    slot: str | None = Field(default=None, description="The schedule slot; null for runs staff asked for.")
    requested_by: str = Field(description="Who asked: a staff e-mail, or the schedule.")
    status: RunStatus
    created_at: datetime
    started_at: datetime | None = None
    heartbeat_at: datetime | None = Field(default=None, description="Last progress report of its worker.")
    finished_at: datetime | None = None
    jobs_total: int = Field(description="Meta report jobs the run needs.")
    jobs_done: int
    rows_fetched: int
    rows_changed: int = Field(description="Rows new or different from what was stored.")
    api_calls: int
    retries: int
    throttle_waits: int = Field(description="Times it slowed down for Meta's rate limits.")
    throttle_wait_seconds: Decimal = Field(description="Seconds spent waiting for them (a string).")
    error_code: int | None = Field(default=None, description="Meta's error code when it failed.")
    error: str | None = Field(default=None, description="Why it failed or stopped.")


class SyncRunPage(BaseModel):
    model_config = _examples(
        {"items": [SYNC_RUN_EXAMPLE], "next_cursor": "WyIyMDI2LTA0LTAxVDAyOjAwOjAwWiIsNDJd"}
    )

    items: list[SyncRun] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class SyncRunsQueued(BaseModel):
    model_config = _examples({"items": [QUEUED_RUN_EXAMPLE]})

    items: list[SyncRun] = Field(description="One queued run per ad account.")


class Metrics(BaseModel):
    """Summed over the ads' rows; the ratios are derived from the sums (never averaged)."""

    model_config = _examples(METRICS_EXAMPLE)

    spend: Decimal = Field(description=_MONEY)
    impressions: int
    clicks: int
    link_clicks: int
    messaging_conversations_started: int
    leads: int
    purchases: int
    purchase_value: Decimal = Field(description=_MONEY)
    ctr: Decimal | None = Field(description=f"Clicks per 100 impressions (%). {_RATIO}")
    cpc: Decimal | None = Field(description=f"Spend per click. {_RATIO}")
    cpm: Decimal | None = Field(description=f"Spend per 1,000 impressions. {_RATIO}")
    roas: Decimal | None = Field(description=f"Purchase value per baht spent. {_RATIO}")
    cost_per_lead: Decimal | None = Field(description=_RATIO)
    cost_per_purchase: Decimal | None = Field(description=_RATIO)
    cost_per_conversation: Decimal | None = Field(
        description=f"Spend per Messenger conversation started. {_RATIO}"
    )


_NAME = "Null when the object is not synced yet (its numbers still count)."


class _Node(BaseModel):
    """What campaigns, ad sets and ads have in common in the tree."""

    id: str
    name: str | None = Field(description=_NAME)
    status: str | None
    effective_status: str | None
    totals: Metrics


class _BudgetedNode(_Node):
    daily_budget: Decimal | None = Field(description=_MONEY)
    lifetime_budget: Decimal | None = Field(description=_MONEY)


class AdNode(_Node):
    model_config = _examples(_AD_EXAMPLE)


class AdSetNode(_BudgetedNode):
    model_config = _examples(_ADSET_EXAMPLE)

    ads: list[AdNode] = Field(description="Biggest spend first.")


class CampaignNode(_BudgetedNode):
    model_config = _examples(_CAMPAIGN_EXAMPLE)

    objective: str | None
    adsets: list[AdSetNode] = Field(description="Biggest spend first.")


class CampaignTree(BaseModel):
    """Campaigns, their ad sets and ads with totals over the range. Archived and deleted objects
    are listed only when they have numbers in it."""

    model_config = _examples(
        {
            "since": "2026-05-01",
            "until": "2026-05-31",
            "currency": "THB",
            "totals": METRICS_EXAMPLE,
            "campaigns": [_CAMPAIGN_EXAMPLE],
        }
    )

    since: date
    until: date
    currency: str
    totals: Metrics = Field(description="All the ad accounts' (or the one asked for) numbers.")
    campaigns: list[CampaignNode] = Field(description="Biggest spend first.")


class InsightRow(BaseModel):
    """One object's numbers for one day, or one hour of it."""

    model_config = _examples(INSIGHT_ROW_EXAMPLE)

    id: str | None = Field(description="The account, campaign, ad set or ad.")
    name: str | None = Field(description=_NAME)
    day: date
    hour: int | None = Field(description="0-23 for hourly rows (the account's time); null for daily.")
    reach: int | None = Field(
        description="People reached: only for one ad on one day (reach does not add up)."
    )
    spend: Decimal = Field(description=_MONEY)
    impressions: int
    clicks: int
    link_clicks: int
    messaging_conversations_started: int
    leads: int
    purchases: int
    purchase_value: Decimal = Field(description=_MONEY)
    ctr: Decimal | None = Field(description=f"Clicks per 100 impressions (%). {_RATIO}")
    cpc: Decimal | None = Field(description=_RATIO)
    cpm: Decimal | None = Field(description=_RATIO)
    roas: Decimal | None = Field(description=_RATIO)
    cost_per_lead: Decimal | None = Field(description=_RATIO)
    cost_per_purchase: Decimal | None = Field(description=_RATIO)
    cost_per_conversation: Decimal | None = Field(description=_RATIO)


class InsightsReport(BaseModel):
    model_config = _examples(
        {
            "level": "campaign",
            "granularity": "day",
            "since": "2026-05-01",
            "until": "2026-05-31",
            "currency": "THB",
            "rows": [INSIGHT_ROW_EXAMPLE],
        }
    )

    level: Level
    granularity: Granularity
    since: date
    until: date
    currency: str
    rows: list[InsightRow] = Field(description="By day, hour and id.")


# --- the client ------------------------------------------------------------------------------


class MarketingClient(InternalApiClient):
    """Typed calls to the marketing service's internal API."""

    service = "marketing"

    def unavailable(self) -> Problem:
        return MarketingUnavailable()

    def conflict(self, detail: str | None) -> Problem:
        return MarketingConflict(detail or "The marketing service refused this action.")

    def rejected(self, detail: str | None) -> Problem:
        return MarketingRejected(detail or "The marketing service did not accept this request.")

    async def sync_runs(
        self, *, limit: int, cursor: str | None, account_id: str | None, status: RunStatus | None
    ) -> SyncRunPage:
        params = query(limit=limit, cursor=cursor, account_id=account_id, status=status)
        return await self._call("GET", "/syncs", SyncRunPage, params=params)

    async def sync_run(self, run_id: int) -> SyncRun:
        return await self._call("GET", f"/syncs/{run_id}", SyncRun, not_found=lambda: SyncRunNotFound(run_id))

    async def trigger_sync(
        self,
        *,
        kind: RunKind,
        since: date | None,
        until: date | None,
        granularities: list[Granularity] | None,
        account_id: str | None,
        requested_by: str,
    ) -> SyncRunsQueued:
        body = {
            "kind": kind,
            "since": _iso(since),
            "until": _iso(until),
            "granularities": granularities,
            "account_id": account_id,
            "requested_by": requested_by,
        }
        return await self._call("POST", "/syncs", SyncRunsQueued, json=body)

    async def campaign_tree(self, *, since: date, until: date, account_id: str | None) -> CampaignTree:
        params = query(since=since, until=until, account_id=account_id)
        return await self._call("GET", "/campaigns", CampaignTree, params=params)

    async def insights(
        self,
        *,
        level: Level,
        granularity: Granularity,
        since: date,
        until: date,
        object_id: str | None,
        account_id: str | None,
    ) -> InsightsReport:
        params = query(
            level=level,
            granularity=granularity,
            since=since,
            until=until,
            id=object_id,
            account_id=account_id,
        )
        return await self._call("GET", "/insights", InsightsReport, params=params)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()
