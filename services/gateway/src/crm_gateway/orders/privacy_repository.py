"""Every SQL statement of `orders.privacy`: a set of customers' orders, lines and payments (whole
rows, for an export), and the erasure's updates that keep the amounts but drop the free text."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.orders.models import order_lines, orders, payments


async def orders_of(session: AsyncSession, customer_ids: Sequence[str]) -> list[Row[Any]]:
    query = (
        select(orders)
        .where(orders.c.customer_id.in_(customer_ids))
        .order_by(orders.c.created_at, orders.c.id)
    )
    return list((await session.execute(query)).all())


async def lines_of(session: AsyncSession, order_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
    query = select(order_lines).where(order_lines.c.order_id.in_(order_ids)).order_by(order_lines.c.id)
    return list((await session.execute(query)).all())


async def payments_of(session: AsyncSession, order_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
    query = (
        select(payments)
        .where(payments.c.order_id.in_(order_ids))
        .order_by(payments.c.received_at, payments.c.id)
    )
    return list((await session.execute(query)).all())


async def order_ids_of(session: AsyncSession, customer_ids: Sequence[str]) -> list[uuid.UUID]:
    found = await session.execute(select(orders.c.id).where(orders.c.customer_id.in_(customer_ids)))
    return list(found.scalars())


async def clear_payment_texts(session: AsyncSession, order_ids: Sequence[uuid.UUID]) -> int:
    """Clear the reference and reason of the orders' payments that have either; how many had."""
    result: Any = await session.execute(
        update(payments)
        .where(
            payments.c.order_id.in_(order_ids),
            or_(payments.c.reference.is_not(None), payments.c.reason.is_not(None)),
        )
        .values(reference=None, reason=None)
    )
    rowcount: int = result.rowcount
    return rowcount


async def drop_attribution_refs(session: AsyncSession, order_ids: Sequence[uuid.UUID]) -> None:
    """Remove the free-form `ref` of both touches in the orders' attribution."""
    attribution = orders.c.attribution.delete_path(["first_touch", "ref"]).delete_path(
        ["latest_touch", "ref"]
    )
    await session.execute(update(orders).where(orders.c.id.in_(order_ids)).values(attribution=attribution))
