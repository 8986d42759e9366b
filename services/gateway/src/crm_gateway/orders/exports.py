"""Every order and every payment and refund, oldest first in keyset pages, in the shapes
`order.created` and `order.status_changed` carry, for a consumer rebuilding its copy
(`crm_gateway.exports`).

Orders come as they were taken (status `pending`, the stamped attribution, the lines at the
price charged). Money comes order by order (orders by when they were taken; within one, payments
and refunds in the order they were recorded, as the order's row lock serialised them), each
with what the event of its moment said: the order's status before and after it, `paid` after
it, and `moved_at` (when the money arrived or was given back, `payments.received_at`). A cancel
moved no money and is left out. A page holds every payment of up to `limit` orders.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import OrderCreatedData, OrderLine, OrderStatusChangedData
from crm_gateway.catalog import service as catalog
from crm_gateway.orders.models import order_lines, orders, payments
from crm_gateway.orders.service import touch

OrderKey = tuple[datetime, uuid.UUID]
Products = dict[uuid.UUID, catalog.OrderableProduct]


def _after(query: Any, after: OrderKey | None) -> Any:
    if after is None:
        return query
    return query.where(
        tuple_(orders.c.created_at, orders.c.id)
        > tuple_(literal(after[0], orders.c.created_at.type), literal(after[1], orders.c.id.type))
    )


async def orders_page(
    session: AsyncSession, after: OrderKey | None, limit: int
) -> list[tuple[OrderKey, OrderCreatedData]]:
    """Up to `limit` orders after `after` by (created_at, id), each with its lines."""
    query = _after(select(orders).order_by(orders.c.created_at, orders.c.id).limit(limit), after)
    rows = list(await session.execute(query))
    lines: dict[uuid.UUID, list[Any]] = defaultdict(list)
    if rows:
        found = await session.execute(
            select(order_lines)
            .where(order_lines.c.order_id.in_([r.id for r in rows]))
            .order_by(order_lines.c.order_id, order_lines.c.id)
        )
        for line in found:
            lines[line.order_id].append(line)
    wanted = {x.product_id for ls in lines.values() for x in ls}
    products = await catalog.products_for_order(session, wanted) if wanted else {}
    return [((r.created_at, r.id), _order(r, lines[r.id], products)) for r in rows]


def _line(x: Any, products: Products) -> OrderLine:
    """A line as `order.created` carries it; the name and kind are the catalog's (none if gone)."""
    product = products.get(x.product_id)
    return OrderLine(
        product_id=x.product_id,
        product_name=product.name_th if product else "",
        product_kind=product.kind if product else None,  # type: ignore[arg-type]
        session_id=x.session_id,
        quantity=x.quantity,
        unit_price=x.unit_price,
        discount=x.discount,
        line_total=x.line_total,
    )


def _order(row: Any, lines: list[Any], products: Products) -> OrderCreatedData:
    attribution = row.attribution or {}
    return OrderCreatedData(
        order_id=row.id,
        customer_id=row.customer_id,
        status="pending",
        currency=row.currency,
        total=row.total,
        lines=[_line(x, products) for x in lines],
        first_touch=touch(attribution.get("first_touch")),
        latest_touch=touch(attribution.get("latest_touch")),
        created_at=row.created_at,
    )


async def money_page(
    session: AsyncSession, after: OrderKey | None, limit: int
) -> tuple[OrderKey | None, list[tuple[uuid.UUID, OrderStatusChangedData]]]:
    """Every payment and refund of the next `limit` orders after `after` that have any, as
    (payment id, event data); and the last of those orders' key (None: no more)."""
    with_money = exists().where(payments.c.order_id == orders.c.id)
    query = _after(
        select(orders).where(with_money).order_by(orders.c.created_at, orders.c.id).limit(limit), after
    )
    page = list(await session.execute(query))
    if not page:
        return None, []
    moves: dict[uuid.UUID, list[Any]] = defaultdict(list)
    found = await session.execute(
        select(payments)
        .where(payments.c.order_id.in_([o.id for o in page]))
        .order_by(payments.c.order_id, payments.c.created_at, payments.c.id)
    )
    for p in found:
        moves[p.order_id].append(p)
    items = [item for order in page for item in _replay(order, moves[order.id])]
    return (page[-1].created_at, page[-1].id), items


def _replay(order: Any, moves: list[Any]) -> list[tuple[uuid.UUID, OrderStatusChangedData]]:
    """The order's payments and refunds with the status each left, as `orders.payments` decides:
    payments reaching the total make it paid; refunding all of a paid order makes it refunded."""
    attribution = order.attribution or {}
    status, paid = "pending", Decimal("0")
    out = []
    for p in moves:
        before = status
        if p.kind == "payment":
            paid += p.amount
            status = "paid" if paid == order.total else "pending"
        else:
            paid -= p.amount
            status = "refunded" if before == "paid" and paid == 0 else before
        data = OrderStatusChangedData(
            order_id=order.id,
            customer_id=order.customer_id,
            status=status,  # type: ignore[arg-type]
            previous_status=before,  # type: ignore[arg-type]
            currency=order.currency,
            total=order.total,
            paid=paid,
            amount=p.amount,
            method=p.method,
            first_touch=touch(attribution.get("first_touch")),
            latest_touch=touch(attribution.get("latest_touch")),
            changed_at=p.created_at,
            kind=p.kind,
            moved_at=p.received_at,
            order_created_at=order.created_at,
        )
        out.append((p.id, data))
    return out


async def count_orders(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(orders)) or 0)


async def count_payments(session: AsyncSession) -> int:
    """Payments and refunds: what `money_page` walks."""
    return int(await session.scalar(select(func.count()).select_from(payments)) or 0)
