"""Sync runs as staff see them: a page of runs, newest first, or the runs with given ids.

Each run shows its range, who asked for it, its status and what it did (report jobs, rows fetched
and changed, API calls, retries, throttling waits); `runs` is where they are queued and recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_marketing.models import sync_runs

RunStatus = Literal["queued", "running", "succeeded", "failed", "stopped"]


class SyncRunView(BaseModel):
    id: int
    account_id: str
    kind: Literal["hourly", "daily", "backfill"]
    since: date
    until: date
    granularities: list[Literal["day", "hour"]]
    slot: str | None
    requested_by: str
    status: RunStatus
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None
    jobs_total: int
    jobs_done: int
    rows_fetched: int
    rows_changed: int
    api_calls: int
    retries: int
    throttle_waits: int
    throttle_wait_seconds: Decimal
    error_code: int | None
    error: str | None


async def sync_runs_page(
    session: AsyncSession,
    *,
    limit: int,
    after: tuple[datetime, int] | None,
    account_id: str | None,
    status: RunStatus | None,
) -> list[SyncRunView]:
    """Newest first; `after` is the (created_at, id) of the last run of the previous page."""
    stmt = select(sync_runs).order_by(sync_runs.c.created_at.desc(), sync_runs.c.id.desc()).limit(limit)
    if after is not None:
        created_at, run_id = after
        stmt = stmt.where(
            or_(
                sync_runs.c.created_at < created_at,
                and_(sync_runs.c.created_at == created_at, sync_runs.c.id < run_id),
            )
        )
    if account_id is not None:
        stmt = stmt.where(sync_runs.c.account_id == account_id)
    if status is not None:
        stmt = stmt.where(sync_runs.c.status == status)
    return [SyncRunView.model_validate(r, from_attributes=True) for r in (await session.execute(stmt)).all()]


async def sync_runs_by_id(session: AsyncSession, run_ids: Sequence[int]) -> list[SyncRunView]:
    """The runs with these ids, in the order given (missing ones left out)."""
    if not run_ids:
        return []
    rows = (await session.execute(select(sync_runs).where(sync_runs.c.id.in_(run_ids)))).all()
    found = {r.id: SyncRunView.model_validate(r, from_attributes=True) for r in rows}
    return [found[i] for i in run_ids if i in found]
