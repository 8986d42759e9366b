"""Work out the figures of Bangkok days from the read model (docs/metrics.md defines each).

Attribution is worked out here, not stored: an order's revenue, its being paid and its
customer's first payment go to the ad of the order's latest ad touch when that touch came within
the variant's window before the order was taken (`last_1d`, `last_7d`, `last_28d`), or to the
customer's first ad touch (`first`); to `unattributed` otherwise.

Revenue by product (`products`) needs no attribution: each money row is split across its
order's lines in proportion to their totals, in whole satang, the satang left over going one each
to the lines with the largest remainders (then by line number), so a day's products add up to its
revenue exactly; money of an order whose lines are not known goes to `unknown`. Paid orders and
units count on the day the order became paid. The split is done by PostgreSQL, exact in numeric.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts.analytics import (
    ATTRIBUTIONS,
    CENT,
    COHORT_WINDOWS,
    UNKNOWN_PRODUCT,
    WINDOWS,
    Attribution,
    Figures,
    ProductFigures,
)

from .tables import ad_days, ad_hours, leads, money, order_lines, orders


@dataclass
class DayFigures:
    ads: dict[str, Figures] = field(default_factory=lambda: defaultdict(Figures))
    unattributed: Figures = field(default_factory=Figures)
    products: dict[str, ProductFigures] = field(default_factory=lambda: defaultdict(ProductFigures))
    # When the latest order whose name a product shows was taken: the newest name wins.
    named_at: dict[str, datetime] = field(default_factory=dict)

    def name(self, product: str, name: str | None, kind: str | None, ordered_at: datetime | None) -> None:
        known = self.named_at.get(product)
        if ordered_at is not None and (known is None or ordered_at > known):
            self.named_at[product] = ordered_at
            figures = self.products[product]
            figures.name, figures.kind = name, kind  # type: ignore[assignment]

    def add_products(self, other: DayFigures) -> None:
        for product, figures in other.products.items():
            mine = self.products[product]
            name, kind = mine.name, mine.kind
            mine.add(figures)
            mine.name, mine.kind = name, kind
            self.name(product, figures.name, figures.kind, other.named_at.get(product))

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
    await _revenue(session, days, result)
    await _paid(session, days, result)
    await _products(session, days, result)
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


def _satang(amount: Any) -> Decimal:
    return (Decimal(amount or 0) / 100).quantize(CENT)


def _shares(days: list[date] | None) -> Select[Any]:
    """Every money row split across its order's lines, in satang, summed per day (when `days`
    are given) and product: (day, product_id, product_name, product_kind, revenue, refunds,
    named_at). Lines weigh their `line_total`; all-free lines weigh one each."""
    joined = select(
        money.c.event_id,
        money.c.day,
        money.c.amount,
        order_lines.c.line_no,
        order_lines.c.product_id,
        order_lines.c.product_name,
        order_lines.c.product_kind,
        order_lines.c.ordered_at,
        order_lines.c.line_total,
        func.sum(order_lines.c.line_total).over(partition_by=money.c.event_id).label("whole"),
        func.count().over(partition_by=money.c.event_id).label("lines"),
    ).join_from(money, order_lines, order_lines.c.order_id == money.c.order_id)
    if days is not None:
        joined = joined.where(money.c.day.in_(days))
    j = joined.subquery("j")
    weight = case((j.c.whole > 0, j.c.line_total), else_=1)
    whole = case((j.c.whole > 0, j.c.whole), else_=j.c.lines)
    cents = func.abs(j.c.amount) * 100
    f = select(
        j,
        func.div(cents * weight, whole).label("base"),
        func.mod(cents * weight, whole).label("rest"),
        cents.label("cents"),
    ).subquery("f")
    r = select(
        f,
        (f.c.cents - func.sum(f.c.base).over(partition_by=f.c.event_id)).label("left"),
        func.row_number()
        .over(partition_by=f.c.event_id, order_by=(f.c.rest.desc(), f.c.line_no))
        .label("place"),
    ).subquery("r")
    share = r.c.base + case((r.c.place <= r.c.left, 1), else_=0)
    keys = [r.c.product_id, r.c.product_name, r.c.product_kind]
    if days is not None:
        keys.insert(0, r.c.day)
    return select(
        *keys,
        func.sum(share * func.sign(r.c.amount)).label("revenue"),
        func.sum(case((r.c.amount < 0, share), else_=0)).label("refunds"),
        func.max(r.c.ordered_at).label("named_at"),
    ).group_by(*keys)


def _lineless(days: list[date] | None) -> Select[Any]:
    """Money of orders whose lines are not known: (day,) revenue, refunds in THB."""
    no_lines = ~exists().where(order_lines.c.order_id == money.c.order_id)
    keys = [money.c.day] if days is not None else []
    query = select(
        *keys,
        func.sum(money.c.amount).label("revenue"),
        func.sum(case((money.c.amount < 0, -money.c.amount), else_=0)).label("refunds"),
    ).where(no_lines)
    if days is not None:
        query = query.where(money.c.day.in_(days))
    return query.group_by(*keys)


def _sold(days: list[date] | None) -> Select[Any]:
    """Orders that became paid, per (day and) product: paid orders, units; product null when the
    order's lines are not known."""
    keys: list[Any] = [order_lines.c.product_id, order_lines.c.product_name, order_lines.c.product_kind]
    if days is not None:
        keys.insert(0, orders.c.paid_day.label("day"))
    query = select(
        *keys,
        func.count(orders.c.order_id.distinct()).label("paid_orders"),
        func.coalesce(func.sum(order_lines.c.quantity), 0).label("units"),
        func.max(order_lines.c.ordered_at).label("named_at"),
    ).join_from(orders, order_lines, order_lines.c.order_id == orders.c.order_id, isouter=True)
    paid = orders.c.paid_day.in_(days) if days is not None else orders.c.paid_day.is_not(None)
    return query.where(paid).group_by(*keys)


async def _fill(session: AsyncSession, days: list[date] | None, of: Any) -> None:
    """Revenue, refunds, paid orders and units by product into `of(row)`'s DayFigures."""
    for row in await session.execute(_shares(days)):
        into: DayFigures = of(row)
        product = str(row.product_id)
        figures = into.products[product]
        figures.revenue += _satang(row.revenue)
        figures.refunds += _satang(row.refunds)
        into.name(product, row.product_name, row.product_kind, row.named_at)
    for row in await session.execute(_lineless(days)):
        if row.revenue is None:  # all of time without any such money: one row of nulls
            continue
        figures = of(row).products[UNKNOWN_PRODUCT]
        figures.revenue += Decimal(row.revenue).quantize(CENT)
        figures.refunds += Decimal(row.refunds).quantize(CENT)
    for row in await session.execute(_sold(days)):
        into = of(row)
        product = str(row.product_id) if row.product_id is not None else UNKNOWN_PRODUCT
        figures = into.products[product]
        figures.paid_orders += row.paid_orders
        figures.units += row.units
        if row.product_id is not None:
            into.name(product, row.product_name, row.product_kind, row.named_at)


async def _products(session: AsyncSession, days: list[date], result: dict[date, DayFigures]) -> None:
    await _fill(session, days, lambda row: result[row.day])


async def products_of_all_time(session: AsyncSession) -> DayFigures:
    """Every product's figures over every day there is (`products/__all__.json`)."""
    everything = DayFigures()
    await _fill(session, None, lambda row: everything)
    return everything


def sum_days(days: Iterable[DayFigures]) -> DayFigures:
    """Days added up, in the order given (the newest name of a product wins)."""
    summed = DayFigures()
    for day in days:
        for ad_id, figures in day.ads.items():
            summed.ads[ad_id].add(figures)
        summed.unattributed.add(day.unattributed)
        summed.add_products(day)
    return summed
