"""Insights by level: numbers per account, campaign, ad set or ad, per day or hour.

Each object's row for a day (or hour) sums its ads' stored rows (see `metrics` for where a row is
placed), named from the structure tables when they know the object. Reach is not additive (the
same person is reached by several ads and on several days), so it is shown only for one ad on one
day, as Meta reported it.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import BigInteger, ColumnElement, Table, and_, cast, func, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_marketing.models import ad_accounts, ads, adsets, campaigns, insights_daily, insights_hourly

from .metrics import CURRENCY, Metrics, Sums, adset_of, campaign_of, in_range, metrics, sum_columns

Level = Literal["account", "campaign", "adset", "ad"]
InsightGranularity = Literal["day", "hour"]


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


def _level_key(level: Level, table: Table) -> tuple[ColumnElement[Any], Table, ColumnElement[Any]]:
    """The expression a row is grouped by at `level`, and the table (and its key) naming it."""
    if level == "account":
        return table.c.account_id, ad_accounts, ad_accounts.c.account_id
    if level == "campaign":
        return campaign_of(table), campaigns, campaigns.c.id
    if level == "adset":
        return adset_of(table), adsets, adsets.c.id
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
    where = in_range(t, since, until, account_id)
    if object_id is not None:
        where = and_(where, key == object_id)
    grouped = (
        select(
            key.label("id"),
            t.c.day,
            (t.c.hour if hourly else null()).label("hour"),
            cast(reach, BigInteger).label("reach"),
            *sum_columns(t),
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
