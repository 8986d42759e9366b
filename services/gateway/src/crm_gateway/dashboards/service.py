"""The dashboards' rules: which snapshot files make a range, how they add up, how current the
answer is. Every ratio is `crm_contracts.analytics.kpis` of summed figures (docs/metrics.md).

A range is its whole months' monthly files plus the daily files of the days around them; a month
whose file is missing or unusable is the sum of its days instead. A day without a file had nothing
to count: zero figures. Snapshots are shared with the store's cache, so figures are only ever
added into new `Figures`, never changed.

How current an answer is comes from the cache-writer's heartbeat, `analytics/state.json`
(`RenderState`), not from the files' own times: the renderer rewrites only the days that changed,
so an old file is normally still right. An answer is `stale` when the heartbeat is missing or
unusable, older than `CRM_DASHBOARD_STALE_AFTER_SECONDS` (the cache-writer is down or stuck), or
says days are waiting to be rendered; it is served all the same, and the route asks for a refresh
(`refresh.py`).

Each answer is made in one worker thread (`asyncio.to_thread`): the file reads and the sums stay
off the event loop. It is made from a `Reading` that notes every file version it used, so
`answers.py` serves it again, serialized, while those files are unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar, get_args

from crm_contracts import RefreshReason
from crm_contracts.analytics import (
    RENDER_STATE_PATH,
    STRUCTURE_PATH,
    SUMMARY_PATH,
    ZERO,
    AdStructureSnapshot,
    Attribution,
    CohortWindow,
    Figures,
    Kpis,
    PeriodSnapshot,
    RenderState,
    SummarySnapshot,
    daily_path,
    kpis,
    monthly_path,
)
from crm_servicekit.logging import get_logger

from .periods import BANGKOK, Month, days, month_spans, months
from .schemas import (
    DailyOut,
    DayPoint,
    MetaNumbers,
    MonthlyOut,
    MonthPoint,
    PeriodName,
    PeriodOut,
    SnapshotProblemOut,
    SummaryOut,
    SummaryPeriodName,
)
from .snapshots import FileProblem, SnapshotStore, Versions
from .tally import Tally

log = get_logger(__name__)

T = TypeVar("T")
SUMMARY_PERIODS: tuple[SummaryPeriodName, ...] = get_args(SummaryPeriodName)
NOTHING = Figures()  # a day without a file; only ever read


@dataclass(frozen=True)
class Ask:
    """What every dashboard question shares: the attribution, the cohort window, and when."""

    attribution: Attribution
    window: CohortWindow
    stale_after_seconds: int
    now: datetime

    @property
    def today(self) -> date:
        return self.now.astimezone(BANGKOK).date()


@dataclass
class Reading:
    """The files one answer is made of: loads them and notes how current they are, which could
    not be used, and (`versions`) which versions were read."""

    store: SnapshotStore
    generated_at: datetime | None = None
    last_event_at: datetime | None = None
    problems: list[FileProblem] = field(default_factory=list)
    versions: Versions = field(default_factory=dict)

    def day(self, day: date) -> PeriodSnapshot | None:
        return self._period(daily_path(day), day.isoformat(), day, day)

    def month(self, month: Month) -> PeriodSnapshot | None:
        return self._period(monthly_path(month.name), month.name, month.first, month.last)

    def summary(self) -> SummarySnapshot | None:
        snapshot = self.store.load(SUMMARY_PATH, SummarySnapshot, self.problems, self.versions)
        if snapshot is not None:
            self._used(snapshot.generated_at, snapshot.last_event_at)
        return snapshot

    def structure(self) -> AdStructureSnapshot | None:
        snapshot = self.store.load(STRUCTURE_PATH, AdStructureSnapshot, self.problems, self.versions)
        if snapshot is not None:
            self._used(snapshot.generated_at, None)
        return snapshot

    def _period(self, relative: str, name: str, since: date, until: date) -> PeriodSnapshot | None:
        snapshot = self.store.load(relative, PeriodSnapshot, self.problems, self.versions)
        if snapshot is None:
            return None
        if (snapshot.period, snapshot.since, snapshot.until) != (name, since, until):
            log.warning("analytics snapshot mismatched", file=relative)
            self.problems.append(FileProblem(relative, "mismatched"))
            return None
        self._used(snapshot.generated_at, snapshot.last_event_at)
        return snapshot

    def _used(self, generated_at: datetime, last_event_at: datetime | None) -> None:
        generated_at = _aware(generated_at)
        if self.generated_at is None or generated_at > self.generated_at:
            self.generated_at = generated_at
        if last_event_at is not None:
            last_event_at = _aware(last_event_at)
            if self.last_event_at is None or last_event_at > self.last_event_at:
                self.last_event_at = last_event_at

    def freshness(self, ask: Ask) -> dict[str, Any]:
        """The `Freshness` fields of the answer, from the heartbeat and the files used.

        The age is how old the data may be: since the cache-writer last caught up (every fact
        it had stored by then is in the files), or, without a heartbeat saying so, since the
        newest file used was written. The heartbeat is read now, not noted in `versions`: an
        answer's figures do not depend on it."""
        problems = list(self.problems)
        state = self.store.load(RENDER_STATE_PATH, RenderState, problems)
        return freshness(self.generated_at, self.last_event_at, problems, state, ask)


def freshness(
    generated_at: datetime | None,
    last_event_at: datetime | None,
    problems: list[FileProblem],
    state: RenderState | None,
    ask: Ask,
) -> dict[str, Any]:
    """The `Freshness` fields of an answer made of files as new as `generated_at` and
    `last_event_at`, with `problems`, for the heartbeat `state` at `ask.now`."""
    reason = stale_reason(state, ask)
    current_as_of = generated_at
    if state is not None and state.caught_up_at is not None:
        current_as_of = _aware(state.caught_up_at)
    age = None
    if current_as_of is not None:
        age = max(0, int((ask.now - current_as_of).total_seconds()))
    return {
        "generated_at": generated_at,
        "last_event_at": last_event_at,
        "rendered_at": _aware(state.rendered_at) if state is not None else None,
        "age_seconds": age,
        "stale": reason is not None,
        "stale_reason": reason,
        "problems": [SnapshotProblemOut(file=p.file, problem=p.problem) for p in problems],
    }


def stale_reason(state: RenderState | None, ask: Ask) -> RefreshReason | None:
    """Why an answer is stale (None: it is not): no heartbeat, an old one, or days pending."""
    if state is None:
        return "no_heartbeat"
    if (ask.now - _aware(state.rendered_at)).total_seconds() > ask.stale_after_seconds:
        return "heartbeat_old"
    if state.days_pending > 0:
        return "days_pending"
    return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass
class Sum:
    """Figures added up: the total, what no ad explains, and (when asked for) each ad's."""

    total: Tally = field(default_factory=Tally)
    unattributed: Tally = field(default_factory=Tally)
    ads: dict[str, Tally] = field(default_factory=dict)

    def add(
        self, total: Figures | Tally, unattributed: Figures | Tally, ads: Mapping[str, Figures] | None = None
    ) -> None:
        self.total.add(total)
        self.unattributed.add(unattributed)
        for ad_id, figures in (ads or {}).items():
            mine = self.ads.get(ad_id)
            if mine is None:
                mine = self.ads[ad_id] = Tally()
            mine.add(figures)

    def add_period(self, snapshot: PeriodSnapshot, *, with_ads: bool = False) -> None:
        self.add(snapshot.total, snapshot.unattributed, snapshot.ads if with_ads else None)


def range_sum(reading: Reading, since: date, until: date, *, with_ads: bool = False) -> Sum:
    """`since`..`until` (inclusive): whole months from their monthly file, other days from theirs."""
    summed = Sum()
    for month, first, last in month_spans(since, until):
        whole = (first, last) == (month.first, month.last)
        monthly = reading.month(month) if whole else None
        if monthly is not None:
            summed.add_period(monthly, with_ads=with_ads)
            continue
        for day in days(first, last):
            if (daily := reading.day(day)) is not None:
                summed.add_period(daily, with_ads=with_ads)
    return summed


def meta_numbers(figures: Figures | Tally) -> MetaNumbers:
    return MetaNumbers(
        impressions=figures.impressions,
        clicks=figures.clicks,
        conversations_started=figures.meta_conversations_started,
        leads=figures.meta_leads,
        purchases=figures.meta_purchases,
        purchase_value=figures.meta_purchase_value,
    )


def account_kpis(summed: Sum, ask: Ask) -> Kpis:
    """The whole account's KPIs: ROAS on attributed revenue only."""
    return kpis(
        summed.total.figures(), ask.attribution, ask.window, unattributed=summed.unattributed.figures()
    )


def _period_out(name: PeriodName, since: date, until: date, summed: Sum, ask: Ask) -> PeriodOut:
    total = summed.total
    return PeriodOut(
        name=name,
        since=since,
        until=until,
        kpis=account_kpis(summed, ask),
        meta=meta_numbers(total),
        unattributed_revenue=summed.unattributed.revenue.get(ask.attribution, ZERO),
        spend=total.spend,
        spend_hourly=total.spend_hourly,
        spend_hourly_difference=total.spend_hourly - total.spend,
    )


def summary_spans(today: date) -> dict[SummaryPeriodName, tuple[date, date]]:
    """The summary's periods as the cache-writer counts them, for a Bangkok `today`."""
    return {
        "today": (today, today),
        "yesterday": (today - timedelta(days=1), today - timedelta(days=1)),
        "last_7_days": (today - timedelta(days=6), today),
        "last_30_days": (today - timedelta(days=29), today),
        "month_to_date": (today.replace(day=1), today),
    }


def summary_of(reading: Reading, ask: Ask, since: date | None, until: date | None) -> SummaryOut:
    """`summary.json`'s periods; or, for a range, that range assembled from the files. Without a
    usable `summary.json` its periods are assembled from the files too (for today in Bangkok)."""
    periods: list[PeriodOut] = []
    if since is not None and until is not None:
        periods.append(_period_out("range", since, until, range_sum(reading, since, until), ask))
    else:
        snapshot = reading.summary()
        spans = summary_spans(snapshot.today if snapshot else ask.today)
        for name in SUMMARY_PERIODS:
            written = snapshot.periods.get(name) if snapshot else None
            if written is not None:
                summed = Sum()
                summed.add(written.total, written.unattributed)
                periods.append(_period_out(name, written.since, written.until, summed, ask))
            else:
                first, last = spans[name]
                periods.append(_period_out(name, first, last, range_sum(reading, first, last), ask))
    return SummaryOut(
        attribution=ask.attribution, cohort_window=ask.window, periods=periods, **reading.freshness(ask)
    )


def _point(summed: Sum, ask: Ask) -> dict[str, Any]:
    k = account_kpis(summed, ask)
    return {
        "spend": k.spend,
        "revenue": k.revenue,
        "attributed_revenue": k.attributed_revenue,
        "leads": k.leads,
        "paid_orders": k.paid_orders,
        "roas": k.roas,
        "cost_per_lead": k.cost_per_lead,
    }


def daily_of(reading: Reading, ask: Ask, since: date, until: date) -> DailyOut:
    """One point per Bangkok day of the range (zeros without a file), and the range's totals."""
    totals = Sum()
    points = []
    for day in days(since, until):
        snapshot = reading.day(day)
        one = Sum()
        if snapshot is not None:
            one.add_period(snapshot)
            totals.add_period(snapshot)
        points.append(DayPoint(day=day, **_point(one, ask)))
    return DailyOut(
        attribution=ask.attribution,
        cohort_window=ask.window,
        since=since,
        until=until,
        points=points,
        totals=account_kpis(totals, ask),
        **reading.freshness(ask),
    )


def monthly_of(reading: Reading, ask: Ask, since: Month, until: Month) -> MonthlyOut:
    """One point per Bangkok month (its file, or the sum of its days), and the range's totals."""
    totals = Sum()
    points = []
    for month in months(since, until):
        one = range_sum(reading, month.first, month.last)
        totals.add(one.total, one.unattributed)
        points.append(MonthPoint(month=month.name, since=month.first, until=month.last, **_point(one, ask)))
    return MonthlyOut(
        attribution=ask.attribution,
        cohort_window=ask.window,
        since=since.name,
        until=until.name,
        points=points,
        totals=account_kpis(totals, ask),
        **reading.freshness(ask),
    )


async def off_the_loop(build: Callable[..., T], *args: Any) -> T:
    """Build an answer in a worker thread: the file reads and the sums never block the loop."""
    return await asyncio.to_thread(build, *args)
