"""Write the analytics snapshots of the days events marked, coalesced.

Consumers only store facts and mark days (`facts.py`); this renderer, run every few seconds by
each replica (one at a time, by an advisory lock), writes each marked day's file, the months they
fall in, the summary and every product's figures of all time (`products/__all__.json`), once
per run however many events marked them: a burst of 10,000 insight facts rewrites each file once.
Marks made while a run renders stay for the next run.

After a run that wrote something, and at least every `analytics_heartbeat_seconds` otherwise, it
writes the heartbeat `analytics/state.json` (`RenderState`: when it ran, when it last left nothing
marked, how many days wait): the gateway tells an idle cache-writer from a stopped or lagging one
by it. A dashboard that found its answer stale asks for its days again
(`analytics.refresh_requested`, `request_refresh`): they are marked, and the next run rewrites
them, the summary and the heartbeat.
"""

from __future__ import annotations

import asyncio
import calendar
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, delete, func, or_, select, union, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_cache_writer.files import write_model
from crm_contracts.analytics import (
    PRODUCTS_ALL_PATH,
    RENDER_STATE_PATH,
    STRUCTURE_PATH,
    SUMMARY_PATH,
    AdNode,
    AdStructureSnapshot,
    PeriodSnapshot,
    ProductFigures,
    ProductsSnapshot,
    RenderState,
    SummaryPeriod,
    SummarySnapshot,
    daily_path,
    monthly_path,
)
from crm_servicekit.logging import get_logger

from .compute import DayFigures, figures_of_days, products_between, remember_days, sum_days
from .facts import BANGKOK
from .reconcile import write_reconciliations
from .tables import (
    ad_conversations,
    ad_days,
    ad_hours,
    ad_structure,
    analytics_state,
    dirty_days,
    leads,
    money,
    orders,
)

log = get_logger(__name__)

RENDER_LOCK_KEY = 0x43524D10
BATCH_DAYS = 366
REFRESH_MAX_DAYS = 400  # a refresh request marks at most this many days, the latest of its range


def today_in_bangkok() -> date:
    return datetime.now(BANGKOK).date()


class Renderer:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        cache_dir: Path,
        *,
        heartbeat_seconds: float = 30.0,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.cache_dir = cache_dir
        self.heartbeat_seconds = heartbeat_seconds
        self.summary_day: date | None = None  # the Bangkok day of the summary last written
        self.heartbeat_at: float | None = None  # time.monotonic() of the last heartbeat written
        self.caught_up_at: datetime | None = None  # the last run that left nothing marked

    async def render_once(self) -> int:
        """Write what is marked, then the heartbeat when one is due; returns how many snapshot
        files were written (0: nothing to do, or another replica is rendering)."""
        started = datetime.now(UTC)
        async with self.sessionmaker() as session:
            locked = await session.scalar(select(func.pg_try_advisory_xact_lock(RENDER_LOCK_KEY)))
            if not locked:
                return 0  # another replica is rendering
            claimed = list(
                await session.execute(
                    select(dirty_days.c.day, dirty_days.c.marked_at)
                    .order_by(dirty_days.c.day)
                    .limit(BATCH_DAYS)
                )
            )
            state = (await session.execute(select(analytics_state))).first()
            last_event_at = state.last_event_at if state else None
            today = today_in_bangkok()
            written = 0
            days = [row.day for row in claimed]
            if days:
                written += await self._days(session, days, last_event_at)
                written += await self._months(session, {(d.year, d.month) for d in days}, last_event_at)
            recent = any(d >= today - timedelta(days=31) for d in days)
            if recent or self.summary_day != today:
                await self._summary(session, today, last_event_at)
                self.summary_day = today
                written += 1
            if days or written:  # with the summary, and whenever a day (however old) changed
                await self._products(session, last_event_at)
                written += 1
            if state is not None and state.structure_dirty_at is not None:
                await self._structure(session)
                await session.execute(
                    update(analytics_state)
                    .where(analytics_state.c.structure_dirty_at == state.structure_dirty_at)
                    .values(structure_dirty_at=None)
                )
                written += 1
            if claimed:
                await session.execute(
                    delete(dirty_days).where(
                        or_(
                            *(
                                and_(dirty_days.c.day == r.day, dirty_days.c.marked_at <= r.marked_at)
                                for r in claimed
                            )
                        )
                    )
                )
            pending = await session.scalar(select(func.count()).select_from(dirty_days)) or 0
            await session.commit()
        if written or self._heartbeat_due():
            await self._heartbeat(started, last_event_at, pending)
        return written

    def _heartbeat_due(self) -> bool:
        return self.heartbeat_at is None or time.monotonic() - self.heartbeat_at >= self.heartbeat_seconds

    async def _heartbeat(self, started: datetime, last_event_at: datetime | None, pending: int) -> None:
        """`analytics/state.json`, after the run's commit: what it says has happened."""
        if pending == 0:
            self.caught_up_at = started
        elif self.caught_up_at is None:
            self.caught_up_at = await _previous_caught_up_at(self.cache_dir)
        state = RenderState(
            rendered_at=started,
            caught_up_at=self.caught_up_at,
            last_event_at=last_event_at,
            days_pending=pending,
        )
        await write_model(self.cache_dir, RENDER_STATE_PATH, state)
        self.heartbeat_at = time.monotonic()

    async def _days(self, session: AsyncSession, days: list[date], last_event_at: datetime | None) -> int:
        figures = await figures_of_days(session, days)
        await remember_days(session, figures)  # all of time is the sum of the days' products
        for day in days:
            await write_model(
                self.cache_dir,
                daily_path(day),
                _period(day.isoformat(), day, day, figures[day], last_event_at),
            )
        await write_reconciliations(session, self.cache_dir, days, last_event_at)  # Meta vs the CRM
        return len(days)

    async def _months(
        self, session: AsyncSession, months: set[tuple[int, int]], last_event_at: datetime | None
    ) -> int:
        for year, month in sorted(months):
            first = date(year, month, 1)
            last = date(year, month, calendar.monthrange(year, month)[1])
            summed = sum_days((await figures_of_days(session, _range(first, last), products=False)).values())
            summed.add_products(await products_between(session, first, last))  # the days' just kept
            await write_model(
                self.cache_dir,
                monthly_path(f"{year:04d}-{month:02d}"),
                _period(f"{year:04d}-{month:02d}", first, last, summed, last_event_at),
            )
        return len(months)

    async def _summary(self, session: AsyncSession, today: date, last_event_at: datetime | None) -> None:
        month_start = today.replace(day=1)
        earliest = min(today - timedelta(days=29), month_start)
        figures = await figures_of_days(session, _range(earliest, today), products=False)
        spans = {
            "today": (today, today),
            "yesterday": (today - timedelta(days=1), today - timedelta(days=1)),
            "last_7_days": (today - timedelta(days=6), today),
            "last_30_days": (today - timedelta(days=29), today),
            "month_to_date": (month_start, today),
        }
        periods: dict[str, SummaryPeriod] = {}
        for name, (since, until) in spans.items():
            summed = sum_days(figures[d] for d in _range(since, until) if d in figures)
            periods[name] = SummaryPeriod(
                since=since, until=until, unattributed=summed.unattributed, total=summed.total()
            )
        snapshot = SummarySnapshot(
            today=today,
            generated_at=datetime.now(UTC),
            last_event_at=last_event_at,
            periods=periods,  # type: ignore[arg-type]
        )
        await write_model(self.cache_dir, SUMMARY_PATH, snapshot)

    async def _products(self, session: AsyncSession, last_event_at: datetime | None) -> None:
        """Every product's figures of all time, written with the summary."""
        everything = await products_between(session, None, None)
        snapshot = ProductsSnapshot(
            generated_at=datetime.now(UTC),
            last_event_at=last_event_at,
            products=_shown(everything.products),
        )
        await write_model(self.cache_dir, PRODUCTS_ALL_PATH, snapshot)

    async def _structure(self, session: AsyncSession) -> None:
        ads = {
            row.ad_id: AdNode(
                ad_id=row.ad_id,
                ad_name=row.ad_name,
                adset_id=row.adset_id,
                adset_name=row.adset_name,
                campaign_id=row.campaign_id,
                campaign_name=row.campaign_name,
                status=row.status,
            )
            for row in await session.execute(select(ad_structure).order_by(ad_structure.c.ad_id))
        }
        await write_model(
            self.cache_dir, STRUCTURE_PATH, AdStructureSnapshot(generated_at=datetime.now(UTC), ads=ads)
        )


async def _previous_caught_up_at(cache_dir: Path) -> datetime | None:
    """What the heartbeat already on disk says (another replica, or before a restart)."""
    try:
        data = await asyncio.to_thread((cache_dir / RENDER_STATE_PATH).read_bytes)
        return RenderState.model_validate_json(data).caught_up_at
    except (OSError, ValueError):
        return None


async def request_refresh(session: AsyncSession, since: date, until: date) -> set[date]:
    """Mark again the days of `since`..`until` that have facts (at most the latest
    `REFRESH_MAX_DAYS` of them), and today, whose render rewrites the summary; a day without
    facts has no file to correct. Runs in the consumer's unit of work; `last_event_at` is not
    moved: a refresh request is no fact."""
    until = min(until, today_in_bangkok())
    since = max(since, until - timedelta(days=REFRESH_MAX_DAYS - 1))
    with_facts = union(
        *(
            select(column).where(column.between(since, until))
            for column in (
                ad_days.c.day,
                ad_hours.c.day,
                leads.c.day,
                ad_conversations.c.day,
                money.c.day,
                orders.c.paid_day,
            )
        )
    )
    days = set((await session.execute(with_facts)).scalars()) | {today_in_bangkok()}
    stmt = insert(dirty_days).values([{"day": d, "marked_at": func.clock_timestamp()} for d in sorted(days)])
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[dirty_days.c.day], set_={"marked_at": func.clock_timestamp()}
        )
    )
    return days


def _range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _shown(products: dict[str, ProductFigures]) -> dict[str, ProductFigures]:
    """The products with something to show, by id (`unknown` among them when it has)."""
    return {p: f for p, f in sorted(products.items()) if f != ProductFigures(name=f.name, kind=f.kind)}


def _period(
    name: str, since: date, until: date, figures: DayFigures, last_event_at: datetime | None
) -> PeriodSnapshot:
    ads = {ad_id: f for ad_id, f in sorted(figures.ads.items()) if not f.is_empty()}
    return PeriodSnapshot(
        period=name,
        since=since,
        until=until,
        generated_at=datetime.now(UTC),
        last_event_at=last_event_at,
        ads=ads,
        unattributed=figures.unattributed,
        total=figures.total(),
        products=_shown(figures.products),
    )
