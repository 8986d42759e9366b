"""`/api/v1/dashboards`: marketing KPIs from the cache-writer's analytics snapshots (files only:
no other service is called, no table is read). Every route needs `dashboard:read`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from crm_contracts.analytics import DEFAULT_ATTRIBUTION, Attribution, CohortWindow
from crm_gateway.auth.api import without_database
from crm_gateway.auth.permissions import Permission, allow
from crm_gateway.deps import SettingsDep
from crm_gateway.errors import problem_responses

from . import answers, periods, service
from .campaigns import campaigns_of
from .periods import MONTH_PATTERN, Month
from .refresh import Revalidator
from .schemas import CampaignsOut, DailyOut, MonthlyOut, SummaryOut
from .snapshots import SnapshotStore

MAX_DAYS = 400  # a summary or campaign range
MAX_DAILY_DAYS = 366  # a daily series: one point per day
MAX_MONTHS = 37  # a monthly series: as far back as Meta keeps numbers

_DESCRIBED = {
    403: "Your role does not allow `dashboard:read`.",
    422: "A parameter is invalid: not a date (or `YYYY-MM` month), an unknown attribution or cohort "
    "window, `since` after `until`, or a range longer than the route allows. `errors` names the "
    "parameter and `detail` says why.",
}
FRESHNESS = (
    "\n\nFresh or not, the answer is 200 and comes from the files at once, even while the "
    "cache-writer or the database is down. `stale` is true when the cache-writer's heartbeat "
    "(`rendered_at`) is missing, older than `CRM_DASHBOARD_STALE_AFTER_SECONDS` (120 s), or says "
    "days wait to be rendered (`stale_reason`); a stale answer also asks the cache-writer to render "
    "its days again (`analytics.refresh_requested`, at most once a minute for overlapping ranges). "
    "`age_seconds` (and the `Age` header; none when unknown) is how old the data may be: since the "
    "cache-writer last caught up, or without a heartbeat since `generated_at`, when the newest "
    "snapshot used was written; `last_event_at` is the newest event it reflects. Before the "
    "cache-writer has written any analytics every figure is zero and `stale` true. A file that is "
    "there but cannot be used "
    "(unreadable, invalid, or of another period than its name) is logged, counted as missing and "
    "listed in `problems`.\n\nPermission: `dashboard:read`."
)

SUMMARY_HELP = (
    "Without `since` and `until`: the cache-writer's summary, its five periods for its Bangkok day "
    "(assembled from the day and month files when `summary.json` is missing or unusable). With "
    "either: one `range` period (`until` defaults to today in Bangkok, `since` to 29 days before "
    "`until`; at most 400 days), assembled from the monthly files of the whole months inside it and "
    "the daily files of the other days. Each period has the account's KPIs (ROAS on attributed "
    "revenue only; AOV and CAC on every order and every new paying customer), Meta's own numbers, "
    "the revenue no ad explains, and spend beside Meta's hourly spend and their difference."
)
DAILY_HELP = (
    "One point per Bangkok day from `since` to `until` (the last 30 days by default, at most 366), "
    "oldest first, with spend, revenue, attributed revenue, leads, paid orders, ROAS and cost per "
    "lead; a day without a snapshot had nothing to count and shows zeros. `totals` are the range's "
    "KPIs."
)
MONTHLY_HELP = (
    "One point per Bangkok month (the last 12 by default, at most 37), oldest first, each from its "
    "monthly snapshot (or the sum of its days when that is missing or unusable), with the same "
    "figures as the daily series; `totals` are the range's KPIs."
)
CAMPAIGNS_HELP = (
    "Every ad with something to show from `since` to `until` (the last 30 days by default, at most "
    "400), under its ad set and campaign as `ads/structure.json` names them; an ad it does not "
    "describe (yet) goes under ad set and campaign `unknown`. Each level's KPIs are worked out from "
    "the sum of the ads below it, as what those ads are credited with; campaigns, ad sets and ads "
    "come by spend, highest first. `unattributed` is what no ad explains, `total` the whole account."
)


AGE_HEADER = {
    "Age": {
        "description": "How old the data may be, in seconds (`age_seconds`); absent when unknown.",
        "schema": {"type": "integer", "minimum": 0},
    }
}


def _responses() -> dict[int | str, dict[str, Any]]:
    return {200: {"headers": AGE_HEADER}, **problem_responses(_DESCRIBED, 403, 422)}


async def get_store(request: Request) -> SnapshotStore:
    store = request.app.state.dashboard_snapshots
    if not isinstance(store, SnapshotStore):
        raise TypeError("app.state.dashboard_snapshots is set by create_app()")
    return store


StoreDep = Annotated[SnapshotStore, Depends(get_store)]


async def get_revalidator(request: Request) -> Revalidator:
    revalidator = request.app.state.dashboard_refresh
    if not isinstance(revalidator, Revalidator):
        raise TypeError("app.state.dashboard_refresh is set by create_app()")
    return revalidator


RefreshDep = Annotated[Revalidator, Depends(get_revalidator)]
Since = Annotated[date | None, Query(description="First Bangkok day; 29 days before `until` when left out.")]
Until = Annotated[date | None, Query(description="Last Bangkok day, included; today when left out.")]
AttributionQuery = Annotated[
    Attribution,
    Query(
        description="Which ad an order is credited to: its latest ad touch within 1, 7 or 28 days "
        "before it was taken (`last_1d`, `last_7d`, `last_28d`), or the customer's `first` ad touch."
    ),
]
WindowQuery = Annotated[
    CohortWindow,
    Query(description="Converted leads: those who paid within this many days of becoming a lead."),
]

router = APIRouter(prefix="/dashboards", tags=["dashboards"], dependencies=[allow(Permission.DASHBOARD_READ)])


def ask_of(settings: SettingsDep, attribution: Attribution, window: CohortWindow) -> service.Ask:
    return service.Ask(
        attribution=attribution,
        window=window,
        stale_after_seconds=settings.crm_dashboard_stale_after_seconds,
        now=datetime.now(UTC),
    )


def revalidate(refresh: Revalidator, answer: answers.Served, since: date, until: date) -> None:
    """A stale answer is served as it is; the cache-writer is asked to render its days again."""
    if answer.stale_reason is not None:
        refresh.request(since, until, answer.stale_reason)


@router.get(
    "/summary",
    summary="KPIs today, yesterday, over 7 and 30 days and this month; or over a range",
    description=SUMMARY_HELP + FRESHNESS,
    responses=_responses(),
    response_model=SummaryOut,
)
@without_database
async def summary(
    store: StoreDep,
    refresh: RefreshDep,
    settings: SettingsDep,
    since: Annotated[
        date | None,
        Query(description="First Bangkok day of a range; the summary periods when both are left out."),
    ] = None,
    until: Annotated[date | None, Query(description="Last Bangkok day of a range, included.")] = None,
    attribution: AttributionQuery = DEFAULT_ATTRIBUTION,
    cohort_window: WindowQuery = "28d",
) -> Response:
    """Permission: `dashboard:read`."""
    ask = ask_of(settings, attribution, cohort_window)
    if since is not None or until is not None:
        since, until = periods.day_range(since, until, max_days=MAX_DAYS, now=ask.today)
    answer = await answers.answer(store, ask, service.summary_of, since, until)
    if since is None or until is None:  # the summary's periods: the last 30 days and this month
        since, until = min(ask.today - timedelta(days=29), ask.today.replace(day=1)), ask.today
    revalidate(refresh, answer, since, until)
    return answer.response()


@router.get(
    "/daily",
    summary="A day-by-day series over a range, ready to plot",
    description=DAILY_HELP + FRESHNESS,
    responses=_responses(),
    response_model=DailyOut,
)
@without_database
async def daily(
    store: StoreDep,
    refresh: RefreshDep,
    settings: SettingsDep,
    since: Since = None,
    until: Until = None,
    attribution: AttributionQuery = DEFAULT_ATTRIBUTION,
    cohort_window: WindowQuery = "28d",
) -> Response:
    """Permission: `dashboard:read`."""
    ask = ask_of(settings, attribution, cohort_window)
    first, last = periods.day_range(since, until, max_days=MAX_DAILY_DAYS, now=ask.today)
    answer = await answers.answer(store, ask, service.daily_of, first, last)
    revalidate(refresh, answer, first, last)
    return answer.response()


@router.get(
    "/monthly",
    summary="A month-by-month series over a range",
    description=MONTHLY_HELP + FRESHNESS,
    responses=_responses(),
    response_model=MonthlyOut,
)
@without_database
async def monthly(
    store: StoreDep,
    refresh: RefreshDep,
    settings: SettingsDep,
    since: Annotated[
        str | None,
        Query(
            pattern=MONTH_PATTERN,
            description="First Bangkok month, `YYYY-MM`; 11 before `until` when left out.",
        ),
    ] = None,
    until: Annotated[
        str | None,
        Query(
            pattern=MONTH_PATTERN,
            description="Last Bangkok month, `YYYY-MM`, included; this month when left out.",
        ),
    ] = None,
    attribution: AttributionQuery = DEFAULT_ATTRIBUTION,
    cohort_window: WindowQuery = "28d",
) -> Response:
    """Permission: `dashboard:read`."""
    ask = ask_of(settings, attribution, cohort_window)
    first, last = periods.month_range(
        Month.parse("since", since) if since else None,
        Month.parse("until", until) if until else None,
        max_months=MAX_MONTHS,
        now=ask.today,
    )
    answer = await answers.answer(store, ask, service.monthly_of, first, last)
    revalidate(refresh, answer, first.first, last.last)
    return answer.response()


@router.get(
    "/campaigns",
    summary="Campaigns → ad sets → ads with every KPI over a range, by spend",
    description=CAMPAIGNS_HELP + FRESHNESS,
    responses=_responses(),
    response_model=CampaignsOut,
)
@without_database
async def campaigns(
    store: StoreDep,
    refresh: RefreshDep,
    settings: SettingsDep,
    since: Since = None,
    until: Until = None,
    attribution: AttributionQuery = DEFAULT_ATTRIBUTION,
    cohort_window: WindowQuery = "28d",
) -> Response:
    """Permission: `dashboard:read`."""
    ask = ask_of(settings, attribution, cohort_window)
    first, last = periods.day_range(since, until, max_days=MAX_DAYS, now=ask.today)
    answer = await answers.answer(store, ask, campaigns_of, first, last)
    revalidate(refresh, answer, first, last)
    return answer.response()
