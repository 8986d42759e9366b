"""Work out the figures of Bangkok days from the read model (docs/metrics.md defines each).

Attribution is worked out here, not stored: an order's revenue, its being paid and its
customer's first payment go to the ad of the order's latest ad touch when that touch came within
the variant's window before the order was taken (`last_1d`, `last_7d`, `last_28d`), or to the
customer's first ad touch (`first`); to `unattributed` otherwise.

Revenue by product (`products`) needs no attribution: each money row is split across its
order's lines in proportion to their totals, in whole satang, the satang left over going one each
to the lines with the largest remainders (then by line number), so a day's products add up to its
revenue exactly; money of an order whose lines are not known goes to `unknown`. Paid orders and
units count on the day the order became paid. The split is exact (integer satang, `split`).
The renderer keeps each rendered day's products (`product_days`): a month and all of time are
their sum (`products_between`), so only the days marked are split again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts.analytics import (
    ATTRIBUTIONS,
    CENT,
    COHORT_WINDOWS,
    UNKNOWN_PRODUCT,
    WINDOWS,
    ZERO,
    Attribution,
    Figures,
    ProductFigures,
)

from .tables import ad_conversations, ad_days, ad_hours, leads, money, order_lines, orders, product_days


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


async def figures_of_days(
    session: AsyncSession, days: list[date], *, products: bool = True
) -> dict[date, DayFigures]:
    """The figures of each of `days`; revenue by product only when `products` (a month's and all
    of time's come from the days' products the renderer kept: `products_between`)."""
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
    if products:
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


def split(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """`amount` shared in proportion to `weights` (all zero: equally), in whole satang: each
    share's whole satang, then the satang left over one each to the largest remainders, the
    earlier weight first on a tie. The shares add up to `amount` exactly; a negative amount is
    split as its opposite (a refund of a payment takes back the same shares)."""
    if len(weights) == 1:
        return [amount]
    cents = [int(w * 100) for w in weights] if any(weights) else [1] * len(weights)  # integers: exact
    satang = int(abs(amount) * 100)
    whole = sum(cents)
    base = [satang * c // whole for c in cents]
    rests = [satang * c % whole for c in cents]
    for i in sorted(range(len(cents)), key=lambda i: (-rests[i], i))[: satang - sum(base)]:
        base[i] += 1
    sign = -1 if amount < 0 else 1
    return [(Decimal(sign * b) / 100).quantize(CENT) for b in base]


async def _products(session: AsyncSession, days: list[date], result: dict[date, DayFigures]) -> None:
    """Revenue, refunds, paid orders and units by product on `days`."""
    shares = select(
        money.c.event_id,
        money.c.day,
        money.c.amount,
        order_lines.c.line_no,
        order_lines.c.product_id,
        order_lines.c.product_name,
        order_lines.c.product_kind,
        order_lines.c.ordered_at,
        order_lines.c.line_total,
    ).join_from(money, order_lines, order_lines.c.order_id == money.c.order_id)
    of_money: dict[Any, list[Any]] = defaultdict(list)
    for row in await session.execute(shares.where(money.c.day.in_(days))):
        of_money[row.event_id].append(row)
    for lines in of_money.values():
        lines.sort(key=lambda line: line.line_no)
        day = result[lines[0].day]
        for line, share in zip(lines, split(lines[0].amount, [x.line_total for x in lines]), strict=True):
            product = str(line.product_id)
            figures = day.products[product]
            figures.revenue += share
            figures.refunds -= min(share, ZERO)
            day.name(product, line.product_name, line.product_kind, line.ordered_at)

    no_lines = ~exists().where(order_lines.c.order_id == money.c.order_id)
    lineless = (
        select(
            money.c.day,
            func.sum(money.c.amount).label("revenue"),
            func.sum(func.least(money.c.amount, 0)).label("refunded"),
        )
        .where(money.c.day.in_(days), no_lines)
        .group_by(money.c.day)
    )
    for row in await session.execute(lineless):
        figures = result[row.day].products[UNKNOWN_PRODUCT]
        figures.revenue += row.revenue
        figures.refunds -= Decimal(row.refunded).quantize(CENT)

    sold = (
        select(
            orders.c.paid_day,
            order_lines.c.product_id,
            order_lines.c.product_name,
            order_lines.c.product_kind,
            func.count(orders.c.order_id.distinct()).label("paid_orders"),
            func.coalesce(func.sum(order_lines.c.quantity), 0).label("units"),
            func.max(order_lines.c.ordered_at).label("named_at"),
        )
        .join_from(orders, order_lines, order_lines.c.order_id == orders.c.order_id, isouter=True)
        .where(orders.c.paid_day.in_(days))
        .group_by(
            orders.c.paid_day,
            order_lines.c.product_id,
            order_lines.c.product_name,
            order_lines.c.product_kind,
        )
    )
    for row in await session.execute(sold):
        day = result[row.paid_day]
        product = str(row.product_id) if row.product_id is not None else UNKNOWN_PRODUCT
        figures = day.products[product]
        figures.paid_orders += row.paid_orders
        figures.units += row.units
        if row.product_id is not None:
            day.name(product, row.product_name, row.product_kind, row.named_at)


async def remember_days(session: AsyncSession, figures: dict[date, DayFigures]) -> None:
    """Keep the products' figures of the days just rendered (`product_days`): all of time is
    their sum, without splitting every payment there ever was again."""
    await session.execute(delete(product_days).where(product_days.c.day.in_(list(figures))))
    rows = [
        {
            "day": day,
            "product_id": product,
            "name": f.name,
            "kind": f.kind,
            "named_at": of_day.named_at.get(product),
            "revenue": f.revenue,
            "refunds": f.refunds,
            "paid_orders": f.paid_orders,
            "units": f.units,
        }
        for day, of_day in figures.items()
        for product, f in of_day.products.items()
    ]
    for start in range(0, len(rows), 1000):  # a statement's parameters are limited
        await session.execute(insert(product_days).values(rows[start : start + 1000]))


async def products_between(session: AsyncSession, since: date | None, until: date | None) -> DayFigures:
    """Every product's figures from `since` to `until` (None: all of time), the sum of the days
    the renderer kept (`remember_days`); the name of the latest order counted wins."""
    everything = DayFigures()
    within = [product_days.c.day >= since] if since is not None else []
    within += [product_days.c.day <= until] if until is not None else []
    sums = (
        select(
            product_days.c.product_id,
            func.sum(product_days.c.revenue).label("revenue"),
            func.sum(product_days.c.refunds).label("refunds"),
            func.sum(product_days.c.paid_orders).label("paid_orders"),
            func.sum(product_days.c.units).label("units"),
        )
        .where(*within)
        .group_by(product_days.c.product_id)
    )
    for row in await session.execute(sums):
        figures = everything.products[row.product_id]
        figures.revenue, figures.refunds = row.revenue, row.refunds
        figures.paid_orders, figures.units = int(row.paid_orders), int(row.units)
    names = (
        select(product_days.c.product_id, product_days.c.name, product_days.c.kind, product_days.c.named_at)
        .where(product_days.c.named_at.is_not(None), *within)
        .order_by(product_days.c.product_id, product_days.c.named_at.desc(), product_days.c.day.desc())
        .distinct(product_days.c.product_id)
    )
    for row in await session.execute(names):
        everything.name(row.product_id, row.name, row.kind, row.named_at)
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
