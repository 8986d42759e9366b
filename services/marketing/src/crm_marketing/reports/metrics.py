"""How insight rows add up: the sums taken in SQL, where a row is placed, and the derived ratios.

Insights are stored per ad (and day, or hour), so a campaign's, an ad set's or an account's
numbers are sums of its ads' rows: each row counts once, wherever it is rolled up. A row is
placed by the campaign and ad set it carries, or its ad's when Meta left them out; a row whose ad
is not in the structure tables (yet) still counts, under a nameless node.

Sums are taken in SQL; the ratios (CTR, CPC, ROAS, costs per result) are derived from the exact
sums in Python, rounded half up to 2 decimals, and null when their denominator is 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import BigInteger, ColumnElement, FromClause, Table, and_, cast, func

from crm_marketing.models import ads

# The school's ad accounts bill in THB; amounts are never converted.
CURRENCY = "THB"
CENT = Decimal("0.01")

_COUNTS = ("impressions", "clicks", "link_clicks", "messaging_conversations_started", "leads", "purchases")
_MONEY = ("spend", "purchase_value")
# Every summed fact, money first: the columns a row is summed over.
FACTS = (*_MONEY, *_COUNTS)


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
        return cls(**{name: getattr(row, name) for name in FACTS})


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


def sum_columns(table: FromClause) -> list[ColumnElement[Any]]:
    """SUM of every fact, 0 for no rows; counts as integers (PostgreSQL sums bigints as numeric)."""
    money = [func.coalesce(func.sum(table.c[name]), 0).label(name) for name in _MONEY]
    counts = [cast(func.coalesce(func.sum(table.c[name]), 0), BigInteger).label(name) for name in _COUNTS]
    return [*money, *counts]


def campaign_of(table: Table) -> ColumnElement[Any]:
    return func.coalesce(table.c.campaign_id, ads.c.campaign_id)


def adset_of(table: Table) -> ColumnElement[Any]:
    return func.coalesce(table.c.adset_id, ads.c.adset_id)


def in_range(table: Table, since: date, until: date, account_id: str | None) -> ColumnElement[bool]:
    where = table.c.day.between(since, until)
    return and_(where, table.c.account_id == account_id) if account_id is not None else where
