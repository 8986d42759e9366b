"""Internal API for the gateway, the only door for staff (ADR 7): sync runs (list, one, trigger)
and the numbers (campaign tree, insights by level), and for operators the re-sending of every
ad's `marketing.structure_changed` (a consumer rebuilding its copy). Every route needs the shared
service token in `X-Internal-Token`; the gateway decides which staff member may do what.

A refusal staff can act on is a 422 (409 when no ad account is configured) whose `detail` is a
sentence written for them; the gateway passes it on. Ids out of BIGINT's range, in the path or
in a cursor, are refused (422) before any statement is built.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from crm_servicekit.internal import internal_router
from crm_servicekit.runtime import Runtime
from crm_servicekit.storable import BIGINT_MAX

from . import exports, runs
from .config import MarketingSettings
from .reports import by_level, syncs, tree
from .reports.by_level import InsightGranularity, InsightsReport, Level
from .reports.syncs import RunStatus, SyncRunView
from .reports.tree import CampaignTree
from .structure_events import republish_all

# Meta keeps insights for 37 months (about 1131 days); hourly rows are read a month at a time.
MAX_DAY_RANGE_DAYS = 1131
MAX_HOUR_RANGE_DAYS = 31


class SyncRunPage(BaseModel):
    items: list[SyncRunView]
    next_cursor: str | None


class SyncRunsQueued(BaseModel):
    items: list[SyncRunView]


class Republished(BaseModel):
    ads: int = Field(description="Ads described again.")
    events: int = Field(description="`marketing.structure_changed` events written to the outbox.")


class SyncRequest(BaseModel):
    kind: runs.RunKind
    # Only a backfill reads these; hourly and daily runs cover their own ranges.
    since: date | None = None
    until: date | None = None
    granularities: list[runs.Granularity] | None = Field(default=None, min_length=1)
    account_id: str | None = Field(default=None, min_length=1, max_length=40)
    requested_by: str = Field(min_length=1, max_length=200)


def account(value: str | None) -> str | None:
    """An ad account id as stored: without Meta's `act_` prefix."""
    return None if value is None else value.strip().removeprefix("act_")


def check_range(since: date, until: date, *, max_days: int, what: str) -> None:
    if since > until:
        raise HTTPException(422, "`since` must be on or before `until`")
    days = (until - since).days + 1
    if days > max_days:
        raise HTTPException(
            422, f"{what} cover at most {max_days} days at a time; {since}..{until} is {days} days"
        )


def _encode(at: datetime, run_id: int) -> str:
    raw = json.dumps([at.isoformat(), run_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, int]:
    try:
        at, run_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(run_id, int) or not 0 < run_id <= BIGINT_MAX:
            raise TypeError("not an id")
        return datetime.fromisoformat(at), run_id
    except (binascii.Error, ValueError, TypeError) as exc:
        raise HTTPException(422, "cursor: not a cursor this API returned") from exc


def router(runtime: Runtime, settings: MarketingSettings) -> APIRouter:
    api = internal_router(settings.crm_internal_token)

    @api.get("/syncs", response_model=SyncRunPage)
    async def list_syncs(
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: str | None = None,
        account_id: str | None = None,
        status: RunStatus | None = None,
    ) -> SyncRunPage:
        after = _decode(cursor) if cursor else None
        async with runtime.sessionmaker() as session:
            items = await syncs.sync_runs_page(
                session, limit=limit + 1, after=after, account_id=account(account_id), status=status
            )
        page = items[:limit]
        more = len(items) > limit
        return SyncRunPage(
            items=page, next_cursor=_encode(page[-1].created_at, page[-1].id) if more else None
        )

    @api.get("/syncs/{run_id}", response_model=SyncRunView)
    async def get_sync(run_id: Annotated[int, Path(ge=1, le=BIGINT_MAX)]) -> SyncRunView:
        async with runtime.sessionmaker() as session:
            found = await syncs.sync_runs_by_id(session, [run_id])
        if not found:
            raise HTTPException(404, "no such sync run")
        return found[0]

    @api.post("/syncs", status_code=202, response_model=SyncRunsQueued)
    async def trigger_sync(body: SyncRequest) -> SyncRunsQueued:
        """Queue one run per ad account (or for the one asked); a worker picks them up."""
        configured = list(dict.fromkeys(settings.ad_account_ids))
        if not configured:
            raise HTTPException(409, "no ad accounts configured (META_AD_ACCOUNT_IDS)")
        accounts = configured
        if body.account_id is not None:
            wanted = account(body.account_id)
            if wanted not in configured:
                known = ", ".join(f"act_{a}" for a in configured)
                raise HTTPException(422, f"act_{wanted} is not one of the configured ad accounts ({known})")
            accounts = [wanted]
        now = datetime.now(UTC)
        async with runtime.uow() as uow:
            requests = []
            for account_id in accounts:
                today = await runs.account_today(uow.session, account_id, now)
                try:
                    since, until, granularities = runs.plan(
                        body.kind,
                        today,
                        lookback_days=settings.sync_lookback_days,
                        since=body.since,
                        until=body.until,
                        granularities=body.granularities,
                    )
                except runs.RunRequestError as exc:
                    raise HTTPException(422, str(exc)) from exc
                requests.append(
                    runs.RunRequest(account_id, body.kind, since, until, granularities, body.requested_by)
                )
            # Without a schedule slot nothing conflicts: every request is queued.
            run_ids = [run_id for r in requests if (run_id := await runs.enqueue(uow.session, r))]
            await uow.commit()
            return SyncRunsQueued(items=await syncs.sync_runs_by_id(uow.session, run_ids))

    @api.get("/campaigns", response_model=CampaignTree)
    async def campaign_tree(since: date, until: date, account_id: str | None = None) -> CampaignTree:
        check_range(since, until, max_days=MAX_DAY_RANGE_DAYS, what="campaign totals")
        async with runtime.sessionmaker() as session:
            return await tree.campaign_tree(session, since, until, account(account_id))

    @api.get("/insights", response_model=InsightsReport)
    async def insights(
        level: Level,
        since: date,
        until: date,
        granularity: InsightGranularity = "day",
        object_id: Annotated[str | None, Query(alias="id", min_length=1)] = None,
        account_id: str | None = None,
    ) -> InsightsReport:
        hourly = granularity == "hour"
        check_range(
            since,
            until,
            max_days=MAX_HOUR_RANGE_DAYS if hourly else MAX_DAY_RANGE_DAYS,
            what="hourly insights" if hourly else "daily insights",
        )
        if level == "account":
            object_id = account(object_id)
        async with runtime.sessionmaker() as session:
            return await by_level.insights(
                session,
                level=level,
                granularity=granularity,
                since=since,
                until=until,
                object_id=object_id,
                account_id=account(account_id),
            )

    @api.post("/structure/republish", response_model=Republished)
    async def republish_structure() -> Republished:
        """Send `marketing.structure_changed` for every ad of every account, as it is now.

        For a consumer that rebuilds its copy; the others keep the newest per ad, so a second
        copy changes nothing for them."""
        done = await republish_all(runtime)
        return Republished(ads=done.ads, events=done.events)

    exports.register(api, runtime)
    return api
