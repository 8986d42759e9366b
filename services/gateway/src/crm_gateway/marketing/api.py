"""`/api/v1/marketing`: Meta ad numbers and their sync runs for staff, through the marketing
service's internal API (see `marketing_client`).

Each route declares its permission (`marketing:read`, `marketing:sync`; see
`auth.permissions`), also named in its docstring.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from crm_gateway.auth.api import CurrentStaff
from crm_gateway.auth.permissions import Permission, allow
from crm_gateway.clients.marketing import (
    CampaignTree,
    Granularity,
    InsightsReport,
    Level,
    RunKind,
    RunStatus,
    SyncRun,
    SyncRunPage,
    SyncRunsQueued,
)
from crm_gateway.deps import MarketingDep
from crm_gateway.errors import problem_responses
from crm_servicekit.storable import BIGINT_MAX

MAX_PAGE_SIZE = 200
ACCOUNT_HELP = "An ad account id, with or without `act_`; all of them when left out."


_DESCRIBED = {
    404: "No sync run has this id.",
    409: "Marketing cannot do this as it is set up (no ad account configured). `detail` says why.",
    422: "The request is invalid, or marketing refused it (e.g. a range Meta no longer keeps, "
    "an unknown ad account). `detail` says why.",
    502: "The marketing service failed to answer (an error of its own); try again, and tell an "
    "administrator if it keeps failing.",
    503: "The marketing service did not answer; try again shortly.",
}


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem answers a route can give besides 401."""
    return problem_responses(_DESCRIBED, *statuses)


class SyncRequestIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"kind": "backfill", "since": "2026-01-01", "until": "2026-03-31", "granularities": ["day"]},
                {"kind": "hourly", "account_id": "act_1234567890"},
            ]
        },
    )

    kind: RunKind = Field(
        description="`hourly`: today and yesterday; `daily`: the last weeks' daily rows; "
        "`backfill`: `since`..`until` (Meta keeps 37 months)."
    )
    since: date | None = Field(default=None, description="A backfill's first day; ignored otherwise.")
    until: date | None = Field(default=None, description="A backfill's last day; ignored otherwise.")
    granularities: list[Granularity] | None = Field(
        default=None, min_length=1, description="A backfill's rows: `day` (default), `hour` or both."
    )
    account_id: str | None = Field(
        default=None, min_length=1, max_length=40, description="One ad account; every one when left out."
    )


router = APIRouter(prefix="/marketing", tags=["marketing"])


@router.get(
    "/syncs",
    summary="Sync runs, newest first",
    responses=_problems(422, 502, 503),
    dependencies=[allow(Permission.MARKETING_READ)],
)
async def list_sync_runs(
    marketing: MarketingDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    account_id: Annotated[str | None, Query(description=ACCOUNT_HELP)] = None,
    status: Annotated[RunStatus | None, Query(description="Only runs in this state.")] = None,
) -> SyncRunPage:
    """Permission: `marketing:read`."""
    return await marketing.sync_runs(limit=limit, cursor=cursor, account_id=account_id, status=status)


@router.get(
    "/syncs/{run_id}",
    summary="One sync run",
    responses=_problems(404, 502, 503),
    dependencies=[allow(Permission.MARKETING_READ)],
)
async def get_sync_run(
    run_id: Annotated[int, Path(ge=1, le=BIGINT_MAX, description="A sync run's `id`.")],
    marketing: MarketingDep,
) -> SyncRun:
    """Poll it to follow a run's progress. Permission: `marketing:read`."""
    return await marketing.sync_run(run_id)


@router.post(
    "/syncs",
    dependencies=[allow(Permission.MARKETING_SYNC)],
    status_code=202,
    summary="Queue a sync of Meta's numbers, as the signed-in staff user",
    responses=_problems(409, 422, 502, 503),
)
async def trigger_sync(body: SyncRequestIn, staff: CurrentStaff, marketing: MarketingDep) -> SyncRunsQueued:
    """Accepted, not yet run: one queued run per ad account, which a marketing worker picks up;
    follow it at `/marketing/syncs/{run_id}`. Permission: `marketing:sync`."""
    return await marketing.trigger_sync(
        kind=body.kind,
        since=body.since,
        until=body.until,
        granularities=body.granularities,
        account_id=body.account_id,
        requested_by=staff.email,
    )


@router.get(
    "/campaigns",
    dependencies=[allow(Permission.MARKETING_READ)],
    summary="Campaigns, ad sets and ads with their totals over a range",
    responses=_problems(422, 502, 503),
)
async def campaign_tree(
    marketing: MarketingDep,
    since: Annotated[date, Query(description="First day (the ad account's days, Asia/Bangkok).")],
    until: Annotated[date, Query(description="Last day, included.")],
    account_id: Annotated[str | None, Query(description=ACCOUNT_HELP)] = None,
) -> CampaignTree:
    """Permission: `marketing:read`."""
    return await marketing.campaign_tree(since=since, until=until, account_id=account_id)


@router.get(
    "/insights",
    dependencies=[allow(Permission.MARKETING_READ)],
    summary="Numbers per account, campaign, ad set or ad, per day or hour",
    responses=_problems(422, 502, 503),
)
async def insights(
    marketing: MarketingDep,
    level: Annotated[Level, Query(description="What each row is about.")],
    since: Annotated[date, Query(description="First day (the ad account's days, Asia/Bangkok).")],
    until: Annotated[date, Query(description="Last day, included.")],
    granularity: Annotated[
        Granularity, Query(description="`day` (up to 1131 days) or `hour` (up to 31 days).")
    ] = "day",
    object_id: Annotated[
        str | None, Query(alias="id", min_length=1, description="Only this object of the level.")
    ] = None,
    account_id: Annotated[str | None, Query(description=ACCOUNT_HELP)] = None,
) -> InsightsReport:
    """Permission: `marketing:read`."""
    return await marketing.insights(
        level=level,
        granularity=granularity,
        since=since,
        until=until,
        object_id=object_id,
        account_id=account_id,
    )
