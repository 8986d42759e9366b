"""The sync engine: schedules runs, claims them, and executes one run from Meta to our tables.

A run (see `runs`) first brings the account's structure up to date, then asks for its insights
in report jobs: hourly rows one day per job (Meta's rule for the hourly breakdown), daily rows
`daily_days_per_job` days per job, a few jobs at a time. Each job's rows are stored in one
transaction (COPY + upsert) together with the `marketing.insights_changed` events carrying the
rows that changed, so a resync that changes nothing publishes nothing.

Outcomes: `succeeded`; `stopped` when Meta refuses the token or a permission (staff must act);
`failed` when a job could not be had even split, Meta kept refusing past every retry, or rows
could not be read (the rest is stored; the error says what is missing).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, TypeVar

import httpx
from sqlalchemy import select

from crm_contracts import InsightsChanged, InsightsChangedData
from crm_servicekit.graph import UsageThrottle
from crm_servicekit.logging import get_logger
from crm_servicekit.runtime import Runtime

from . import runs
from .config import MarketingSettings
from .meta.client import MarketingApiError, MarketingClient, RetryPolicy, Sleep, SyncStopped
from .meta.insights import InsightError, InsightRow, parse_row
from .meta.report_jobs import Job, Polling, ReportFailed, ReportRunner
from .models import ad_accounts
from .repository import upsert_insights
from .structure import child_ids, sync_structure

log = get_logger(__name__)

FACTS_PER_EVENT = 500
HEARTBEAT_SECONDS = 10.0


def plan_jobs(
    account_id: str, since: date, until: date, granularities: Sequence[str], *, daily_days: int
) -> list[Job]:
    """The report jobs of a run: hourly one day each, daily `daily_days` days each."""
    node = f"act_{account_id}"
    jobs: list[Job] = []
    if "day" in granularities:
        start = since
        while start <= until:
            end = min(until, start + timedelta(days=daily_days - 1))
            jobs.append(Job(node, "account", start, end, hourly=False))
            start = end + timedelta(days=1)
    if "hour" in granularities:
        day = since
        while day <= until:
            jobs.append(Job(node, "account", day, day, hourly=True))
            day += timedelta(days=1)
    return jobs


T = TypeVar("T")


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@dataclass
class RunState:
    run: runs.ClaimedRun
    stats: runs.RunStats
    client: MarketingClient
    currency: str = "THB"
    unreadable: int = 0
    first_unreadable: str | None = None


class Syncer:
    """Executes queued runs; one per process is enough (runs are claimed with SKIP LOCKED)."""

    def __init__(
        self,
        runtime: Runtime,
        settings: MarketingSettings,
        *,
        sleep: Sleep = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.sleep = sleep
        self.transport = transport

    def client(self) -> MarketingClient:
        s = self.settings
        return MarketingClient(
            base_url=s.meta_graph_api_url,
            version=s.meta_graph_api_version,
            access_token=s.meta_marketing_access_token.get_secret_value(),
            retry=RetryPolicy(
                s.meta_max_attempts, s.meta_backoff_initial_seconds, s.meta_backoff_max_seconds
            ),
            throttle=UsageThrottle(
                slow_from=s.usage_slowdown_pct,
                max_delay=s.usage_pause_seconds * (s.usage_pause_pct - s.usage_slowdown_pct) / 100,
                blocked_wait=s.usage_pause_seconds,
                sleep=self.sleep,
            ),
            timeout=s.meta_timeout_seconds,
            sleep=self.sleep,
            transport=self.transport,
        )

    # -- queue --------------------------------------------------------------------------------
    async def run_pending(self) -> int:
        """Execute queued runs until none is left; returns how many ran."""
        done = 0
        while True:
            async with self.runtime.sessionmaker() as session, session.begin():
                run = await runs.claim_next(session, timedelta(seconds=self.settings.sync_stale_seconds))
            if run is None:
                return done
            await self.execute(run)
            done += 1

    async def schedule_due(self, now: datetime | None = None) -> int:
        """Queue this hour's hourly run and today's daily run of every account, once each."""
        if not self.settings.sync_schedule_enabled:
            return 0
        now = now or datetime.now(UTC)
        queued = 0
        async with self.runtime.sessionmaker() as session, session.begin():
            for account in self.settings.ad_account_ids:
                local = await runs.account_now(session, account, now)
                today = local.date()
                wanted: list[tuple[runs.RunKind, str]] = [("hourly", f"hourly:{account}:{now:%Y-%m-%dT%H}Z")]
                if local.hour >= self.settings.sync_daily_hour:
                    wanted.append(("daily", f"daily:{account}:{today.isoformat()}"))
                for kind, slot in wanted:
                    since, until, grains = runs.plan(
                        kind, today, lookback_days=self.settings.sync_lookback_days
                    )
                    request = runs.RunRequest(account, kind, since, until, grains, "schedule", slot)
                    queued += (await runs.enqueue(session, request)) is not None
        return queued

    # -- one run ------------------------------------------------------------------------------
    async def execute(self, run: runs.ClaimedRun) -> runs.Outcome:
        client = self.client()
        state = RunState(run, runs.RunStats(), client)
        outcome: runs.Outcome = "succeeded"
        error: str | None = None
        code: int | None = None
        log.info("sync run started", run_id=run.id, kind=run.kind, since=str(run.since), until=str(run.until))
        try:
            async with self._heartbeat(state):
                if not self.settings.meta_marketing_access_token.get_secret_value():
                    raise SyncStopped(MarketingApiError(190, None, "no access token", 400))
                await self._execute(state)
            if state.unreadable:
                outcome = "failed"
                error = (
                    f"{state.unreadable} rows could not be read and were left out ({state.first_unreadable})"
                )
        except* SyncStopped as group:
            stop = group.exceptions[0]
            assert isinstance(stop, SyncStopped)
            outcome, error, code = "stopped", str(stop), stop.error.code
        except* ReportFailed as group:
            outcome, error = "failed", "; ".join(str(e) for e in group.exceptions[:3])
        except* MarketingApiError as group:
            exc = group.exceptions[0]
            assert isinstance(exc, MarketingApiError)
            outcome, error, code = "failed", f"Meta error {exc.code}/{exc.subcode}: {exc.message}", exc.code
        except* httpx.TransportError as group:
            outcome, error = "failed", f"Meta could not be reached: {type(group.exceptions[0]).__name__}"
        except* Exception as group:
            # Our own fault (a bug, the database gone): recorded, so the run does not look alive.
            log.exception("sync run crashed", run_id=run.id)
            outcome, error = "failed", f"internal error: {type(group.exceptions[0]).__name__}"
        finally:
            await client.aclose()
        self._merge(state)
        async with self.runtime.sessionmaker() as session, session.begin():
            await runs.finish(session, run.id, state.stats, outcome, error=error, error_code=code)
        log.info(
            "sync run finished",
            run_id=run.id,
            outcome=outcome,
            rows_fetched=state.stats.rows_fetched,
            rows_changed=state.stats.rows_changed,
            api_calls=state.stats.api_calls,
        )
        return outcome

    async def _execute(self, state: RunState) -> None:
        run, s = state.run, self.settings
        sessions = self.runtime.sessionmaker
        stored = await sync_structure(
            state.client,
            self.runtime,
            run.account_id,
            page_size=s.insights_page_size,
            correlation_id=f"sync-run-{run.id}",
        )
        log.info("structure synced", run_id=run.id, **stored)
        async with sessions() as session:
            currency = await session.scalar(
                select(ad_accounts.c.currency).where(ad_accounts.c.account_id == run.account_id)
            )
        state.currency = currency or "THB"
        jobs = plan_jobs(
            run.account_id, run.since, run.until, run.granularities, daily_days=s.daily_days_per_job
        )
        state.stats.jobs_total = len(jobs)
        await self._flush(state)

        async def children(job: Job) -> list[str]:
            return await child_ids(sessions, job.level, job.node)

        runner = ReportRunner(
            state.client,
            children,
            page_size=s.insights_page_size,
            attempts=s.report_attempts,
            polling=Polling(
                s.report_poll_initial_seconds, s.report_poll_max_seconds, s.report_timeout_seconds
            ),
            sleep=self.sleep,
            concurrency=asyncio.Semaphore(s.report_concurrency),
        )

        async def one(job: Job) -> None:
            rows = await runner.rows(job)
            await self.store_job(state, job, rows)

        async with asyncio.TaskGroup() as group:
            for job in jobs:
                group.create_task(one(job))

    async def store_job(self, state: RunState, job: Job, raw: list[dict[str, Any]]) -> None:
        parsed: list[InsightRow] = []
        for item in raw:
            try:
                row = parse_row(item)
                if not row.ad_id:
                    raise InsightError("ad_id: missing from a row asked for at level=ad")
                parsed.append(row)
            except (InsightError, ValueError) as exc:
                state.unreadable += 1
                state.first_unreadable = state.first_unreadable or str(exc).splitlines()[0]
        granularity: Literal["day", "hour"] = "hour" if job.hourly else "day"
        async with self.runtime.uow() as uow:
            changed = await upsert_insights(uow.session, parsed, hourly=job.hourly)
            for part in _chunks(changed, FACTS_PER_EVENT):
                data = {
                    "account_id": state.run.account_id,
                    "currency": state.currency,
                    "granularity": granularity,
                    "sync_run_id": state.run.id,
                    "facts": [c.fact for c in part],
                }
                uow.emit(
                    InsightsChanged(
                        correlation_id=f"sync-run-{state.run.id}",
                        data=InsightsChangedData.model_validate(data),
                    )
                )
            await uow.commit()
        state.stats.rows_fetched += len(raw)
        state.stats.rows_changed += len(changed)
        state.stats.jobs_done += 1

    def _merge(self, state: RunState) -> None:
        calls = state.client.stats
        state.stats.api_calls = calls.calls
        state.stats.retries = calls.retries
        state.stats.throttle_waits = calls.throttle_waits
        state.stats.throttle_wait_seconds = Decimal(str(round(calls.throttle_wait_seconds, 3)))

    async def _flush(self, state: RunState) -> None:
        self._merge(state)
        async with self.runtime.sessionmaker() as session, session.begin():
            await runs.report(session, state.run.id, state.stats)

    @contextlib.asynccontextmanager
    async def _heartbeat(self, state: RunState) -> AsyncIterator[None]:
        """Progress (and proof of life) on the run's row while it runs."""

        async def beat() -> None:
            while True:
                await asyncio.sleep(HEARTBEAT_SECONDS)
                with contextlib.suppress(Exception):
                    await self._flush(state)

        task = asyncio.create_task(beat())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
