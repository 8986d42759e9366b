"""Every SQL statement of taking, reading and changing orders: an order found by its
Idempotency-Key, inserted with its lines, read with its lines and payments, listed newest first by
keyset; an order locked for a payment, refund or cancel, its payment row inserted (a repeated bank
reference refused by the UNIQUE constraint), its status and `paid` set, the seats it booked summed;
and a customer's orders moved to another customer when customers merge (or back, on an undo).
The catalog's rows (prices, seats) are the catalog's: `crm_gateway.catalog.service`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, func, insert, literal, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.orders.models import order_lines, orders, payments
from crm_servicekit.sqlcache import bound, frozen

# --- taking an order ------------------------------------------------------------------------------


async def order_id_by_key(session: AsyncSession, key: str) -> uuid.UUID | None:
    order_id: uuid.UUID | None = await session.scalar(
        select(orders.c.id).where(orders.c.idempotency_key == key)
    )
    return order_id


# One statement, no savepoint: an order whose Idempotency-Key is taken is simply not inserted.
# Frozen (`crm_servicekit.sqlcache`): SQLAlchemy would compile an ON CONFLICT insert every time.
_INSERT_ORDER = frozen(
    upsert(orders)
    .values(bound("customer_id", "total", "attribution", "idempotency_key", "created_by"))
    .on_conflict_do_nothing(index_elements=[orders.c.idempotency_key])
    .returning(orders.c.id, orders.c.status, orders.c.created_at)
)


async def insert_order(session: AsyncSession, values: Mapping[str, Any]) -> Row[Any] | None:
    """The new order's (id, status, created_at); None if an order with its Idempotency-Key exists
    (a concurrent request's insert is waited for: None once it committed, the row if it did not)."""
    return (await session.execute(_INSERT_ORDER, dict(values))).one_or_none()


async def insert_lines(session: AsyncSession, lines: Sequence[Mapping[str, Any]]) -> None:
    await session.execute(insert(order_lines), list(lines))


# --- reading orders -------------------------------------------------------------------------------


async def order(session: AsyncSession, order_id: uuid.UUID) -> Row[Any] | None:
    return (await session.execute(select(orders).where(orders.c.id == order_id))).one_or_none()


async def lines_of(session: AsyncSession, order_id: uuid.UUID) -> list[Row[Any]]:
    """The order's lines in the order they were taken."""
    rows = await session.execute(
        select(order_lines).where(order_lines.c.order_id == order_id).order_by(order_lines.c.id)
    )
    return list(rows)


async def payments_of(session: AsyncSession, order_id: uuid.UUID) -> list[Row[Any]]:
    """The order's payments and refunds, oldest first."""
    rows = await session.execute(
        select(payments).where(payments.c.order_id == order_id).order_by(payments.c.created_at, payments.c.id)
    )
    return list(rows)


async def page(
    session: AsyncSession,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    customer_id: str | None,
    status: str | None,
) -> list[Row[Any]]:
    """Up to `limit` orders newest first, of the customer and in the status when given, after the
    keyset (created_at, id) `after` in that order."""
    query = select(orders).order_by(orders.c.created_at.desc(), orders.c.id.desc()).limit(limit)
    if customer_id is not None:
        query = query.where(orders.c.customer_id == customer_id)
    if status is not None:
        query = query.where(orders.c.status == status)
    if after is not None:
        at, last_id = after
        query = query.where(
            tuple_(orders.c.created_at, orders.c.id)
            < tuple_(literal(at, orders.c.created_at.type), literal(last_id, orders.c.id.type))
        )
    return list(await session.execute(query))


# --- payments, refunds, cancelling ----------------------------------------------------------------


async def lock_order(session: AsyncSession, order_id: uuid.UUID) -> Row[Any] | None:
    """The order row, locked until the transaction ends; None if there is none."""
    locked = select(orders).where(orders.c.id == order_id).with_for_update()
    return (await session.execute(locked)).one_or_none()


async def insert_payment(
    session: AsyncSession,
    *,
    order_id: uuid.UUID,
    kind: str,
    method: str,
    amount: Decimal,
    received_at: datetime | None,
    reference: str | None,
    reason: str | None,
    recorded_by: uuid.UUID,
) -> uuid.UUID | None:
    """The new payment or refund's id (received now unless `received_at` says when); None when its
    (order, kind, reference) is already recorded."""
    row = (
        await session.execute(
            upsert(payments)
            .values(
                order_id=order_id,
                kind=kind,
                method=method,
                amount=amount,
                received_at=received_at or func.now(),
                reference=reference,
                reason=reason,
                recorded_by=recorded_by,
            )
            .on_conflict_do_nothing(
                index_elements=[payments.c.order_id, payments.c.kind, payments.c.reference]
            )
            .returning(payments.c.id)
        )
    ).first()
    if row is None:
        return None
    payment_id: uuid.UUID = row.id
    return payment_id


async def set_status(session: AsyncSession, order_id: uuid.UUID, status: str, paid: Decimal) -> Row[Any]:
    """Set the status and `paid`; the version grows by one and `updated_at` is now. The new row."""
    return (
        await session.execute(
            update(orders)
            .where(orders.c.id == order_id)
            .values(status=status, paid=paid, version=orders.c.version + 1, updated_at=func.now())
            .returning(orders)
        )
    ).one()


async def booked_seats(session: AsyncSession, order_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """The seats the order's lines booked, summed by session."""
    booked = await session.execute(
        select(order_lines.c.session_id, func.sum(order_lines.c.quantity).label("seats"))
        .where(order_lines.c.order_id == order_id, order_lines.c.session_id.is_not(None))
        .group_by(order_lines.c.session_id)
        .order_by(order_lines.c.session_id)
    )
    return {session_id: seats for session_id, seats in booked}


# --- customers merged -----------------------------------------------------------------------------


async def move_customer_orders(
    session: AsyncSession, source: str, target: str, only: Sequence[uuid.UUID] | None = None
) -> list[uuid.UUID]:
    """Give `source`'s orders (all, or those among `only`) to `target`; their ids as returned."""
    stmt = update(orders).where(orders.c.customer_id == source).values(customer_id=target)
    if only is not None:
        stmt = stmt.where(orders.c.id.in_(only))
    return [r.id for r in await session.execute(stmt.returning(orders.c.id))]
