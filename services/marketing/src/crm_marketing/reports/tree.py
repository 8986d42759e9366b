"""The campaign tree: campaigns > ad sets > ads, each with its totals over a range of days.

It is built from the daily rows (the account's days), rolled up in one query into totals per ad,
ad set, campaign and overall (see `metrics` for where a row is placed). Objects staff no longer see in
Ads Manager (archived, deleted) are listed only when they have numbers in the range; an ad set or
ad hangs where its numbers were counted, else where the structure tables say it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Table, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_marketing.models import ads, adsets, campaigns, insights_daily

from .metrics import (
    CURRENCY,
    FACTS,
    Metrics,
    Sums,
    adset_of,
    campaign_of,
    in_range,
    metrics,
    sum_columns,
)

# Objects staff no longer see in Ads Manager: listed only when they have numbers in the range.
HIDDEN_STATUSES = ("ARCHIVED", "DELETED")


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
            campaign_of(t).label("campaign_id"),
            adset_of(t).label("adset_id"),
            t.c.ad_id,
            *(t.c[name] for name in FACTS),
        )
        .select_from(t.outerjoin(ads, ads.c.id == t.c.ad_id))
        .where(in_range(t, since, until, account_id))
        .subquery()
    )
    # One pass: totals per ad, per ad set, per campaign and overall (GROUPING says which).
    stmt = select(
        rows.c.campaign_id,
        rows.c.adset_id,
        rows.c.ad_id,
        func.grouping(rows.c.campaign_id, rows.c.adset_id, rows.c.ad_id).label("level"),
        *sum_columns(rows),
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
