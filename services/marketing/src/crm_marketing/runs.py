"""Sync runs: queued by the schedules, the backfill command or staff (through the gateway),
claimed by any worker with SKIP LOCKED, and recorded with what they did.

A run covers one ad account and one date range (the account's days) for daily rows, hourly
rows or both. Its counters (report jobs, rows fetched and changed, API calls, retries,
throttling waits) and its outcome are what staff see at `/api/v1/marketing/syncs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .models import ad_accounts, sync_runs

RunKind = Literal["hourly", "daily", "backfill"]
Granularity = Literal["day", "hour"]
DEFAULT_TIMEZONE = "Asia/Bangkok"
# Meta keeps insights for 37 months.
MAX_HISTORY_MONTHS = 37


class RunRequestError(ValueError):
    """A run that cannot be queued as asked; the message says why (shown to staff)."""


@dataclass(frozen=True)
class RunRequest:
    account_id: str
    kind: RunKind
    since: date
    until: date
    granularities: tuple[Granularity, ...]
    requested_by: str
    slot: str | None = None


def months_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for dom in (day.day, 30, 29, 28):
        try:
            return date(year, month, dom)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def plan(
    kind: RunKind,
    today: date,
    *,
    lookback_days: int,
    since: date | None = None,
    until: date | None = None,
    granularities: Sequence[Granularity] | None = None,
) -> tuple[date, date, tuple[Granularity, ...]]:
    """The range and granularities of a run of `kind`, with `today` the account's local day."""
    if kind == "hourly":
        return today - timedelta(days=1), today, ("day", "hour")
    if kind == "daily":
        return today - timedelta(days=lookback_days - 1), today, ("day",)
    if since is None or until is None:
        raise RunRequestError("a backfill needs `since` and `until`")
    if since > until:
        raise RunRequestError("`since` must be on or before `until`")
    if until > today:
        raise RunRequestError(f"`until` is in the future (today is {today.isoformat()} for this account)")
    oldest = months_before(today, MAX_HISTORY_MONTHS)
    if since < oldest:
        raise RunRequestError(
            f"Meta keeps insights for {MAX_HISTORY_MONTHS} months: `since` must be on or after {oldest}"
        )
    chosen = tuple(dict.fromkeys(granularities or ("day",)))
    if not chosen:
        raise RunRequestError("choose at least one granularity: day, hour")
    return since, until, chosen


async def account_now(session: AsyncSession, account_id: str, now: datetime) -> datetime:
    """`now` in the ad account's timezone (Asia/Bangkok until the account itself was synced)."""
    query = select(ad_accounts.c.timezone_name).where(ad_accounts.c.account_id == account_id)
    return now.astimezone(ZoneInfo(await session.scalar(query) or DEFAULT_TIMEZONE))


async def account_today(session: AsyncSession, account_id: str, now: datetime) -> date:
    """Today in the ad account's timezone: its insights' days are that timezone's days."""
    return (await account_now(session, account_id, now)).date()


async def enqueue(session: AsyncSession, request: RunRequest) -> int | None:
    """Queue a run; `None` when a run for the same schedule slot already exists."""
    stmt = (
        insert(sync_runs)
        .values(
            account_id=request.account_id,
            kind=request.kind,
            since=request.since,
            until=request.until,
            granularities=list(request.granularities),
            requested_by=request.requested_by,
            slot=request.slot,
        )
        .on_conflict_do_nothing(index_elements=["slot"])
        .returning(sync_runs.c.id)
    )
    return await session.scalar(stmt)


@dataclass(frozen=True)
class ClaimedRun:
    id: int
    account_id: str
    kind: RunKind
    since: date
    until: date
    granularities: tuple[Granularity, ...]


async def claim_next(session: AsyncSession, stale_after: timedelta) -> ClaimedRun | None:
    """Take the oldest queued run, or one whose worker stopped reporting, and mark it running."""
    stale = func.now() - stale_after
    other = sync_runs.alias("other")
    busy = (
        select(other.c.id)
        .where(other.c.account_id == sync_runs.c.account_id, other.c.id != sync_runs.c.id)
        .where(other.c.status == "running", other.c.heartbeat_at >= stale)
    )
    candidate = (
        select(sync_runs.c.id)
        .where(
            (sync_runs.c.status == "queued")
            | ((sync_runs.c.status == "running") & (sync_runs.c.heartbeat_at < stale))
        )
        # One run per account at a time: Meta's limits are per account, and runs would only
        # fetch the same rows twice.
        .where(~busy.exists())
        .order_by(sync_runs.c.created_at, sync_runs.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    row = (
        await session.execute(
            update(sync_runs)
            .where(sync_runs.c.id == candidate)
            .values(status="running", started_at=func.now(), heartbeat_at=func.now(), error=None)
            .returning(
                sync_runs.c.id,
                sync_runs.c.account_id,
                sync_runs.c.kind,
                sync_runs.c.since,
                sync_runs.c.until,
                sync_runs.c.granularities,
            )
        )
    ).first()
    if row is None:
        return None
    return ClaimedRun(row.id, row.account_id, row.kind, row.since, row.until, tuple(row.granularities))


@dataclass
class RunStats:
    """What a run did so far; flushed to its row as it goes, so progress is visible."""

    jobs_total: int = 0
    jobs_done: int = 0
    rows_fetched: int = 0
    rows_changed: int = 0
    api_calls: int = 0
    retries: int = 0
    throttle_waits: int = 0
    throttle_wait_seconds: Decimal = Decimal("0")


async def report(session: AsyncSession, run_id: int, stats: RunStats) -> None:
    await session.execute(
        update(sync_runs)
        .where(sync_runs.c.id == run_id)
        .values(
            heartbeat_at=func.now(),
            jobs_total=stats.jobs_total,
            jobs_done=stats.jobs_done,
            rows_fetched=stats.rows_fetched,
            rows_changed=stats.rows_changed,
            api_calls=stats.api_calls,
            retries=stats.retries,
            throttle_waits=stats.throttle_waits,
            throttle_wait_seconds=stats.throttle_wait_seconds.quantize(Decimal("0.001")),
        )
    )


Outcome = Literal["succeeded", "failed", "stopped"]


async def finish(
    session: AsyncSession,
    run_id: int,
    stats: RunStats,
    outcome: Outcome,
    *,
    error: str | None = None,
    error_code: int | None = None,
) -> None:
    await report(session, run_id, stats)
    await session.execute(
        update(sync_runs)
        .where(sync_runs.c.id == run_id)
        .values(status=outcome, finished_at=func.now(), error=error, error_code=error_code)
    )
