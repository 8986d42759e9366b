"""`GET /api/v1/dashboards/reconciliation`: Meta's numbers beside the CRM's per campaign and Bangkok
day, every difference broken into named causes and what they leave unexplained, from the
cache-writer's `analytics/reconciliation_<day>.json` files only. A range's figures are the sums of
its days' (the causes are additive; late payments inside a range cancel out)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from crm_contracts.analytics import Attribution
from crm_contracts.analytics_checks import (
    ASSUMED_TIMEZONE,
    NOT_REPORTED,
    RECONCILIATION_ATTRIBUTION,
    CampaignReconciliation,
    ReconciliationSnapshot,
    reconciliation_path,
)
from crm_gateway.auth.permissions import Permission, allow
from crm_gateway.deps import SettingsDep

from . import periods, service
from .api import FRESHNESS, MAX_DAYS, Since, StoreDep, Until
from .integrity_api import ask, note, responses
from .schemas import Freshness
from .snapshots import FileProblem, SnapshotStore

router = APIRouter(prefix="/dashboards", tags=["dashboards"], dependencies=[allow(Permission.DASHBOARD_READ)])

ALL = "all"
RECONCILIATION_HELP = (
    "Per campaign and Bangkok day from `since` to `until` (the last 30 days by default, at most 400), "
    "Meta's conversations started, leads, purchases and purchase value beside the CRM's leads, "
    "orders that became paid and revenue, the CRM credited under `crm_attribution` (Meta's default "
    "7-day click: Meta's insight rows do not say which setting it used, so "
    "`meta_attribution_setting` is `not reported`). Each `difference` (Meta minus the CRM) is "
    "broken into `causes`: `no_ad_touch`, `touch_outside_window` and `customers_meta_cannot_see` "
    "(walk-ins, LINE, web) for what no campaign explains (campaign `none`), "
    "`conversions_without_customer` (Meta counts what the CRM has no lead or order for), `timezone` "
    "(zero: the ad account's day is assumed a Bangkok day), `late_payments` (money on another day "
    "than the order was taken) and `refunds`; `unexplained` is what they leave, never forced to "
    "zero. `totals` are per campaign over the range, `total` the whole account. `campaign` keeps "
    "one campaign's rows (`none` for what no campaign explains). docs/metrics.md defines each cause."
)


class ReconciliationDayOut(BaseModel):
    day: date
    campaigns: list[CampaignReconciliation]


class ReconciliationOut(Freshness):
    since: date
    until: date
    campaign: str | None
    crm_attribution: Attribution = RECONCILIATION_ATTRIBUTION
    meta_attribution_setting: str = Field(description="As Meta's insight rows say; `not reported` today.")
    account_timezone: str = Field(description="The ad account's time zone, assumed when the rows do not say.")
    days: list[ReconciliationDayOut] = Field(description="Days with something to compare, oldest first.")
    totals: list[CampaignReconciliation] = Field(description="Per campaign over the range, by campaign id.")
    total: CampaignReconciliation = Field(description="Every campaign and `none` added up (`all`).")


def _copy(row: CampaignReconciliation) -> CampaignReconciliation:
    """A new row with `row`'s figures: files are shared with the store's cache, never changed."""
    mine = CampaignReconciliation(campaign_id=row.campaign_id)
    mine.add(row)
    return mine


def reconciliation_of(
    store: SnapshotStore, question: service.Ask, since: date, until: date, campaign: str | None
) -> ReconciliationOut:
    reading = service.Reading(store)
    out_days: list[ReconciliationDayOut] = []
    totals: dict[str, CampaignReconciliation] = {}
    total = CampaignReconciliation(campaign_id=ALL)
    settings: set[str] = set()
    timezones: set[str] = set()
    for day in periods.days(since, until):
        relative = reconciliation_path(day)
        snapshot = store.load(relative, ReconciliationSnapshot, reading.problems)
        if snapshot is None:
            continue
        if snapshot.day != day:
            reading.problems.append(FileProblem(relative, "mismatched"))
            continue
        note(reading, snapshot.generated_at, snapshot.last_event_at)
        settings.add(snapshot.meta_attribution_setting)
        timezones.add(snapshot.account_timezone)
        rows = [_copy(r) for cid, r in sorted(snapshot.campaigns.items()) if campaign in (None, cid)]
        if not rows:
            continue
        out_days.append(ReconciliationDayOut(day=day, campaigns=rows))
        for row in rows:
            totals.setdefault(row.campaign_id, CampaignReconciliation(campaign_id=row.campaign_id)).add(row)
            total.add(row)
    return ReconciliationOut(
        since=since,
        until=until,
        campaign=campaign,
        meta_attribution_setting=", ".join(sorted(settings)) or NOT_REPORTED,
        account_timezone=", ".join(sorted(timezones)) or ASSUMED_TIMEZONE,
        days=out_days,
        totals=[totals[c] for c in sorted(totals)],
        total=total,
        **reading.freshness(question),
    )


@router.get(
    "/reconciliation",
    summary="Meta's numbers beside the CRM's per campaign and day, differences by named cause",
    description=RECONCILIATION_HELP + FRESHNESS,
    responses=responses(403, 422),
)
async def reconciliation(
    response: Response,
    store: StoreDep,
    settings: SettingsDep,
    since: Since = None,
    until: Until = None,
    campaign: Annotated[
        str | None,
        Query(max_length=32, description="One campaign id (`none`: what no campaign explains)."),
    ] = None,
) -> ReconciliationOut:
    """Permission: `dashboard:read`."""
    question = ask(settings.crm_dashboard_stale_after_seconds)
    first, last = periods.day_range(since, until, max_days=MAX_DAYS, now=question.today)
    answer = await service.off_the_loop(reconciliation_of, store, question, first, last, campaign)
    if answer.age_seconds is not None:
        response.headers["Age"] = str(answer.age_seconds)
    return answer
