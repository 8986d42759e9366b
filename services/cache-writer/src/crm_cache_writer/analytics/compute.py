"""Work out the figures of Bangkok days from the read model (docs/metrics.md defines each).

Attribution is worked out here, not stored: an order's revenue, its being paid and its
customer's first payment go to the ad of the order's latest ad touch when that touch came within
the variant's window before the order was taken (`last_1d`, `last_7d`, `last_28d`), or to the
customer's first ad touch (`first`); to `unattributed` otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts.analytics import ATTRIBUTIONS, COHORT_WINDOWS, WINDOWS, Attribution, Figures

from .tables import ad_conversations, ad_days, ad_hours, leads, money, orders


@dataclass
class DayFigures:
    ads: dict[str, Figures] = field(default_factory=lambda: defaultdict(Figures))
    unattributed: Figures = field(default_factory=Figures)

    def of(self, ad_id: str | None) -> Figures:
        return self.ads[ad_id] if ad_id is not None else self.unattributed

    def total(self) -> Figures:
        total = Figures()
        for figures in self.ads.values():
            total.add(figures)
        total.add(self.unattributed)
        return total


def credited_ad(order: Any, attribution: Attribution) -> str | None:
    """The ad an order is credited to under `attribution`, or None (unattributed)."""
    window = WINDOWS[attribution]
    first: str | None = order.first_ad_id
    latest: str | None = order.latest_ad_id
    if window is None:
        return first
    if latest is None or order.latest_touch_at is None or order.created_at is None:
        return None
    before = order.created_at - order.latest_touch_at
    return latest if timedelta(0) <= before <= timedelta(days=window) else None


_ORDER = (
    orders.c.order_id,
    orders.c.customer_id,
    orders.c.created_at,
    orders.c.first_ad_id,
    orders.c.latest_ad_id,
    orders.c.latest_touch_at,
    orders.c.paid_at,
    orders.c.paid_day,
)


async def figures_of_days(session: AsyncSession, days: list[date]) -> dict[date, DayFigures]:
    result: dict[date, DayFigures] = {d: DayFigures() for d in days}
    if not days:
        return result
    for row in await session.execute(select(ad_days).where(ad_days.c.day.in_(days))):
        f = result[row.day].ads[row.ad_id]
        f.spend += row.spend
        f.impressions += row.impressions
        f.clicks += row.clicks
        f.meta_conversations_started += row.meta_conversations_started
        f.meta_leads += row.meta_leads
        f.meta_purchases += row.meta_purchases
        f.meta_purchase_value += row.meta_purchase_value
    hourly = (
        select(ad_hours.c.day, ad_hours.c.ad_id, func.sum(ad_hours.c.spend).label("spend"))
        .where(ad_hours.c.day.in_(days))
        .group_by(ad_hours.c.day, ad_hours.c.ad_id)
    )
    for row in await session.execute(hourly):
        result[row.day].ads[row.ad_id].spend_hourly += row.spend

    await _leads(session, days, result)
    await _conversations(session, days, result)
    await _revenue(session, days, result)
    await _paid(session, days, result)
    return result


async def _leads(session: AsyncSession, days: list[date], result: dict[date, DayFigures]) -> None:
    """Leads on their day, and (cohort) those of them who paid within each window."""
    first_paid = (
        select(func.min(orders.c.paid_at))
        .where(orders.c.customer_id == leads.c.customer_id)
        .scalar_subquery()
    )
    query = select(leads.c.day, leads.c.ad_id, leads.c.created_at, first_paid.label("first_paid")).where(
        leads.c.day.in_(days)
    )
    for row in await session.execute(query):
        f = result[row.day].ads[row.ad_id]
        f.leads += 1
        if row.first_paid is None:
            continue
        for window, length in COHORT_WINDOWS.items():
            if row.first_paid <= row.created_at + timedelta(days=length):
                f.converted_leads[window] += 1


async def _conversations(session: AsyncSession, days: list[date], result: dict[date, DayFigures]) -> None:
    counted = (
        select(ad_conversations.c.day, ad_conversations.c.ad_id, func.count().label("started"))
        .where(ad_conversations.c.day.in_(days))
        .group_by(ad_conversations.c.day, ad_conversations.c.ad_id)
    )
    for row in await session.execute(counted):
        result[row.day].ads[row.ad_id].conversations_started += row.started


async def _revenue(session: AsyncSession, days: list[date], result: dict[date, DayFigures]) -> None:
    query = select(money.c.day, money.c.amount, *_ORDER).join(
        orders, orders.c.order_id == money.c.order_id, isouter=True
    )
    for row in await session.execute(query.where(money.c.day.in_(days))):
        day = result[row.day]
        for attribution in ATTRIBUTIONS:
            credited = day.of(credited_ad(row, attribution))
            credited.revenue[attribution] += row.amount


async def _paid(session: AsyncSession, days: list[date], result: dict[date, DayFigures]) -> None:
    """Orders that became paid on these days, and the customers for whom it was the first."""
    became_paid = list(await session.execute(select(*_ORDER).where(orders.c.paid_day.in_(days))))
    customers = {row.customer_id for row in became_paid}
    first: dict[str, Any] = {}
    if customers:
        # A subquery, not the customers' ids as parameters: a year's render names
        # more customers than one statement may carry (32,767 parameters).
        paying = select(orders.c.customer_id).where(orders.c.paid_day.in_(days))
        earliest = (
            select(*_ORDER)
            .where(orders.c.customer_id.in_(paying), orders.c.paid_at.is_not(None))
            .order_by(orders.c.customer_id, orders.c.paid_at, orders.c.order_id)
            .distinct(orders.c.customer_id)
        )
        first = {row.customer_id: row.order_id for row in await session.execute(earliest)}
    for row in became_paid:
        day = result[row.paid_day]
        for attribution in ATTRIBUTIONS:
            credited = day.of(credited_ad(row, attribution))
            credited.paid_orders[attribution] += 1
            if first.get(row.customer_id) == row.order_id:
                credited.new_paying_customers[attribution] += 1
