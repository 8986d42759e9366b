"""What staff read: sync runs, the campaign tree with its totals, and insights rolled up by level.

Insights are stored per ad (and day, or hour), so a campaign's, an ad set's or an account's
numbers are sums of its ads' rows: each row counts once, wherever it is rolled up. A row is
placed by the campaign and ad set it carries, or its ad's when Meta left them out; a row whose ad
is not in the structure tables (yet) still counts, under a nameless node. Reach is not additive
(the same person is reached by several ads and on several days), so it is shown only for one ad
on one day, as Meta reported it.

Sums are taken in SQL; the ratios (CTR, CPC, ROAS, costs per result) are derived from the exact
sums in Python, rounded half up to 2 decimals, and null when their denominator is 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, TypeVar

from pydantic import BaseModel
from sqlalchemy import BigInteger, ColumnElement, FromClause, Table, and_, cast, func, null, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import ad_accounts, ads, adsets, campaigns, insights_daily, insights_hourly, sync_runs

Level = Literal["account", "campaign", "adset", "ad"]
InsightGranularity = Literal["day", "hour"]
RunStatus = Literal["queued", "running", "succeeded", "failed", "stopped"]

# The school's ad accounts bill in THB; amounts are never converted.
CURRENCY = "THB"
# Objects staff no longer see in Ads Manager: listed only when they have numbers in the range.
HIDDEN_STATUSES = ("ARCHIVED", "DELETED")
CENT = Decimal("0.01")

_COUNTS = ("impressions", "clicks", "link_clicks", "messaging_conversations_started", "leads", "purchases")
_MONEY = ("spend", "purchase_value")


# --- shapes ------------------------------------------------------------------------------------


class Metrics(BaseModel):
    """Summed facts and the ratios derived from them; money in THB as exact 2-decimal strings."""

    spend: Decimal
    impressions: int
    clicks: int
    link_clicks: int
    messaging_conversations_started: int
    leads: int
    purchases: int
    purchase_value: Decimal
    ctr: Decimal | None
    cpc: Decimal | None
    cpm: Decimal | None
    roas: Decimal | None
    cost_per_lead: Decimal | None
    cost_per_purchase: Decimal | None
    cost_per_conversation: Decimal | None


class AdNode(BaseModel):
    id: str
    name: str | None
    status: str | None
    effective_status: str | None
    totals: Metrics


class AdSetNode(BaseModel):
    id: str
    name: str | None
    status: str | None
    effective_status: str | None
    daily_budget: Decimal | None
    lifetime_budget: Decimal | None
    totals: Metrics
    ads: list[AdNode]


class CampaignNode(BaseModel):
    id: str
    name: str | None
    status: str | None
    effective_status: str | None
    objective: str | None
    daily_budget: Decimal | None
    lifetime_budget: Decimal | None
    totals: Metrics
    adsets: list[AdSetNode]


class CampaignTree(BaseModel):
    since: date
    until: date
    currency: str
    totals: Metrics
    campaigns: list[CampaignNode]


class InsightPoint(BaseModel):
    id: str | None
    name: str | None
    day: date
    hour: int | None


class InsightRow(Metrics, InsightPoint):
    """One object's numbers for one day or hour (its id first, then the metrics)."""

    reach: int | None


class InsightsReport(BaseModel):
    level: Level
    granularity: InsightGranularity
    since: date
    until: date
    currency: str
    rows: list[InsightRow]


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


# --- metrics -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sums:
    spend: Decimal = Decimal("0.00")
    impressions: int = 0
    clicks: int = 0
    link_clicks: int = 0
    messaging_conversations_started: int = 0
    leads: int = 0
    purchases: int = 0
    purchase_value: Decimal = Decimal("0.00")

    @classmethod
    def of(cls, row: Any) -> Sums:
        return cls(**{name: getattr(row, name) for name in (*_MONEY, *_COUNTS)})


def _ratio(numerator: Decimal | int, denominator: Decimal | int, scale: int = 1) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * scale / Decimal(denominator)).quantize(CENT, ROUND_HALF_UP)


def metrics(s: Sums) -> Metrics:
    return Metrics(
        spend=s.spend.quantize(CENT, ROUND_HALF_UP),
        impressions=s.impressions,
        clicks=s.clicks,
        link_clicks=s.link_clicks,
        messaging_conversations_started=s.messaging_conversations_started,
        leads=s.leads,
        purchases=s.purchases,
        purchase_value=s.purchase_value.quantize(CENT, ROUND_HALF_UP),
        ctr=_ratio(s.clicks, s.impressions, 100),
        cpc=_ratio(s.spend, s.clicks),
        cpm=_ratio(s.spend, s.impressions, 1000),
        roas=_ratio(s.purchase_value, s.spend),
        cost_per_lead=_ratio(s.spend, s.leads),
        cost_per_purchase=_ratio(s.spend, s.purchases),
        cost_per_conversation=_ratio(s.spend, s.messaging_conversations_started),
    )


def _sums(table: FromClause) -> list[ColumnElement[Any]]:
    """SUM of every fact, 0 for no rows; counts as integers (PostgreSQL sums bigints as numeric)."""
    money = [func.coalesce(func.sum(table.c[name]), 0).label(name) for name in _MONEY]
    counts = [cast(func.coalesce(func.sum(table.c[name]), 0), BigInteger).label(name) for name in _COUNTS]
    return [*money, *counts]


def _campaign_of(table: Table) -> ColumnElement[Any]:
    return func.coalesce(table.c.campaign_id, ads.c.campaign_id)


def _adset_of(table: Table) -> ColumnElement[Any]:
    return func.coalesce(table.c.adset_id, ads.c.adset_id)


def _in_range(table: Table, since: date, until: date, account_id: str | None) -> ColumnElement[bool]:
    where = table.c.day.between(since, until)
    return and_(where, table.c.account_id == account_id) if account_id is not None else where


# --- the campaign tree -------------------------------------------------------------------------


def _visible(table: Table) -> ColumnElement[bool]:
    return and_(
        func.coalesce(table.c.status, "").not_in(HIDDEN_STATUSES),
        func.coalesce(table.c.effective_status, "").not_in(HIDDEN_STATUSES),
    )


async def _structure(
    session: AsyncSession, table: Table, account_id: str | None, with_numbers: set[str]
) -> list[Any]:
    """The objects of `table` staff see: every one not archived or deleted, and those with numbers."""
    shown = or_(_visible(table), table.c.id.in_(sorted(with_numbers))) if with_numbers else _visible(table)
    stmt = select(table).where(shown)
    if account_id is not None:
        stmt = stmt.where(table.c.account_id == account_id)
    return list((await session.execute(stmt)).all())


@dataclass
class _Rollup:
    """Sums per ad, ad set and campaign (keyed by where the rows were placed), and overall."""

    by_ad: dict[tuple[str, str, str], Sums]
    by_adset: dict[tuple[str, str], Sums]
    by_campaign: dict[str, Sums]
    overall: Sums


async def _rollup(session: AsyncSession, since: date, until: date, account_id: str | None) -> _Rollup:
    t = insights_daily
    rows = (
        select(
            _campaign_of(t).label("campaign_id"),
            _adset_of(t).label("adset_id"),
            t.c.ad_id,
            *(t.c[name] for name in (*_MONEY, *_COUNTS)),
        )
        .select_from(t.outerjoin(ads, ads.c.id == t.c.ad_id))
        .where(_in_range(t, since, until, account_id))
        .subquery()
    )
    # One pass: totals per ad, per ad set, per campaign and overall (GROUPING says which).
    stmt = select(
        rows.c.campaign_id,
        rows.c.adset_id,
        rows.c.ad_id,
        func.grouping(rows.c.campaign_id, rows.c.adset_id, rows.c.ad_id).label("level"),
        *_sums(rows),
    ).group_by(func.rollup(rows.c.campaign_id, rows.c.adset_id, rows.c.ad_id))
    result = _Rollup({}, {}, {}, Sums())
    for r in (await session.execute(stmt)).all():
        sums = Sums.of(r)
        if r.level == 0b111:
            result.overall = sums
        # A row without a campaign (or ad set) counts only in the levels above the missing one.
        elif r.campaign_id is None or (r.level != 0b011 and r.adset_id is None):
            continue
        elif r.level == 0b011:
            result.by_campaign[r.campaign_id] = sums
        elif r.level == 0b001:
            result.by_adset[r.campaign_id, r.adset_id] = sums
        else:
            result.by_ad[r.campaign_id, r.adset_id, r.ad_id] = sums
    return result


_AD_FIELDS = ("name", "status", "effective_status")
_ADSET_FIELDS = (*_AD_FIELDS, "daily_budget", "lifetime_budget")
_CAMPAIGN_FIELDS = (*_ADSET_FIELDS, "objective")


def _described(row: Any | None, names: tuple[str, ...]) -> dict[str, Any]:
    """What the structure tables say of an object: nulls when it is not synced yet."""
    return {name: None if row is None else getattr(row, name) for name in names}


async def campaign_tree(
    session: AsyncSession, since: date, until: date, account_id: str | None
) -> CampaignTree:
    """Campaigns > ad sets > ads with their totals over the range (daily rows, the account's days).

    An ad set or ad hangs where its numbers were counted, else where the structure says it is;
    one whose parent is not shown (archived, without numbers) is not shown either.
    """
    sums = await _rollup(session, since, until, account_id)
    known_campaigns = {
        c.id: c for c in await _structure(session, campaigns, account_id, set(sums.by_campaign))
    }
    known_adsets = {
        s.id: s for s in await _structure(session, adsets, account_id, {a for _, a in sums.by_adset})
    }
    known_ads = {a.id: a for a in await _structure(session, ads, account_id, {a for *_, a in sums.by_ad})}

    ad_parent = {a.id: (a.campaign_id, a.adset_id) for a in known_ads.values()}
    ad_parent |= {ad: (c, s) for c, s, ad in sums.by_ad}
    ads_of: dict[tuple[str, str], list[AdNode]] = {}
    for ad_id, parent in ad_parent.items():
        ads_of.setdefault(parent, []).append(
            AdNode(
                id=ad_id,
                **_described(known_ads.get(ad_id), _AD_FIELDS),
                totals=metrics(sums.by_ad.get((*parent, ad_id), Sums())),
            )
        )
    adset_parent = {s.id: s.campaign_id for s in known_adsets.values()}
    adset_parent |= {a: c for c, a in sums.by_adset}
    adsets_of: dict[str, list[AdSetNode]] = {}
    for adset_id, campaign_id in adset_parent.items():
        adsets_of.setdefault(campaign_id, []).append(
            AdSetNode(
                id=adset_id,
                **_described(known_adsets.get(adset_id), _ADSET_FIELDS),
                totals=metrics(sums.by_adset.get((campaign_id, adset_id), Sums())),
                ads=_by_spend(ads_of.get((campaign_id, adset_id), [])),
            )
        )
    nodes = [
        CampaignNode(
            id=campaign_id,
            **_described(known_campaigns.get(campaign_id), _CAMPAIGN_FIELDS),
            totals=metrics(sums.by_campaign.get(campaign_id, Sums())),
            adsets=_by_spend(adsets_of.get(campaign_id, [])),
        )
        for campaign_id in known_campaigns.keys() | sums.by_campaign.keys()
    ]
    return CampaignTree(
        since=since, until=until, currency=CURRENCY, totals=metrics(sums.overall), campaigns=_by_spend(nodes)
    )


N = TypeVar("N", AdNode, AdSetNode, CampaignNode)


def _by_spend(nodes: list[N]) -> list[N]:
    """Biggest spend first; then by name and id, so the order is stable."""
    return sorted(nodes, key=lambda n: (-n.totals.spend, n.name or "", n.id))


# --- insights by level -------------------------------------------------------------------------


def _level_key(level: Level, table: Table) -> tuple[ColumnElement[Any], Table, ColumnElement[Any]]:
    """The expression a row is grouped by at `level`, and the table (and its key) naming it."""
    if level == "account":
        return table.c.account_id, ad_accounts, ad_accounts.c.account_id
    if level == "campaign":
        return _campaign_of(table), campaigns, campaigns.c.id
    if level == "adset":
        return _adset_of(table), adsets, adsets.c.id
    return table.c.ad_id, ads, ads.c.id


async def insights(
    session: AsyncSession,
    *,
    level: Level,
    granularity: InsightGranularity,
    since: date,
    until: date,
    object_id: str | None,
    account_id: str | None,
) -> InsightsReport:
    """Numbers per object of `level` per day (or hour), ordered by day, hour and id."""
    hourly = granularity == "hour"
    t = insights_hourly if hourly else insights_daily
    key, names, name_key = _level_key(level, t)
    # One stored row per ad and day: its reach is Meta's; any sum of reaches would overcount.
    reach = func.max(t.c.reach) if level == "ad" and not hourly else null()
    where = _in_range(t, since, until, account_id)
    if object_id is not None:
        where = and_(where, key == object_id)
    grouped = (
        select(
            key.label("id"),
            t.c.day,
            (t.c.hour if hourly else null()).label("hour"),
            cast(reach, BigInteger).label("reach"),
            *_sums(t),
        )
        .select_from(t.outerjoin(ads, ads.c.id == t.c.ad_id))
        .where(where)
        .group_by(key, t.c.day, *([t.c.hour] if hourly else []))
    )
    g = grouped.subquery()
    stmt = (
        select(g, names.c.name)
        .select_from(g.outerjoin(names, name_key == g.c.id))
        .order_by(g.c.day, g.c.hour, g.c.id)
    )
    rows = [
        InsightRow(
            id=r.id,
            name=r.name,
            day=r.day,
            hour=r.hour,
            reach=r.reach,
            **metrics(Sums.of(r)).model_dump(),
        )
        for r in (await session.execute(stmt)).all()
    ]
    return InsightsReport(
        level=level, granularity=granularity, since=since, until=until, currency=CURRENCY, rows=rows
    )


# --- sync runs ---------------------------------------------------------------------------------


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
