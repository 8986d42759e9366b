"""Orders: taking them (prices from the catalog, seats booked) and reading them.

Booking a session's seats is one conditional UPDATE (`seats_taken + n <= capacity`), so no
concurrency can oversell it; an order is all or nothing. The customer's ad attribution is stamped
on the order when it is taken, so later payments are credited to the ad that brought the sale.
Payments, refunds and cancelling are in `payments`.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, literal, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import AdReferral, OrderCreated, OrderCreatedData, OrderLine
from crm_gateway.audit import service as audit
from crm_gateway.auth.domain import Staff
from crm_gateway.catalog.models import course_sessions, products
from crm_gateway.catalog.service import CatalogNotFound
from crm_gateway.customers import timeline
from crm_gateway.customers.models import customers
from crm_gateway.errors import InvalidParameter, Problem
from crm_gateway.orders.models import order_lines, orders, payments
from crm_servicekit.outbox import UnitOfWork

CENT = Decimal("0.01")


class OrderRejected(Problem):
    """The order cannot be taken as asked (unknown customer, inactive product, ...)."""

    status = 422
    slug = "order-rejected"
    title = "The order cannot be taken"


class SoldOut(Problem):
    status = 409
    slug = "sold-out"
    title = "Not enough seats"


@dataclass(frozen=True)
class LineRequest:
    product_id: uuid.UUID
    quantity: int
    discount: Decimal
    session_id: uuid.UUID | None = None


@dataclass(frozen=True)
class OrderView:
    """An order with its lines and its payments and refunds, oldest first."""

    row: Any
    lines: list[Any]
    payments: list[Any]


@dataclass(frozen=True)
class OrderPage:
    items: list[Any]
    next_cursor: str | None


def touch(value: Any) -> AdReferral | None:
    return AdReferral.model_validate(value) if value else None


async def order_by_key(session: AsyncSession, key: str) -> uuid.UUID | None:
    return await session.scalar(select(orders.c.id).where(orders.c.idempotency_key == key))


async def create_order(
    uow: UnitOfWork,
    *,
    customer_id: str,
    lines: list[LineRequest],
    staff: Staff,
    idempotency_key: str | None,
) -> tuple[uuid.UUID, bool]:
    """Take an order; returns (its id, True) or, for a repeated Idempotency-Key, (the first
    order's id, False). Raises a `Problem` a user can read when it cannot be taken."""
    session = uow.session
    if idempotency_key and (existing := await order_by_key(session, idempotency_key)):
        return existing, False
    customer = (
        await session.execute(
            select(customers.c.first_touch, customers.c.latest_touch).where(customers.c.id == customer_id)
        )
    ).one_or_none()
    if customer is None:
        raise OrderRejected(f"No customer has the id {customer_id!r}.")
    priced = await _price(session, lines)
    total = sum((p.line_total for p in priced), Decimal("0.00"))
    attribution = {"first_touch": customer.first_touch, "latest_touch": customer.latest_touch}
    try:
        async with uow.savepoint():
            order = (
                await session.execute(
                    insert(orders)
                    .values(
                        customer_id=customer_id,
                        total=total,
                        attribution=attribution,
                        idempotency_key=idempotency_key,
                        created_by=staff.id,
                    )
                    .returning(orders.c.id, orders.c.status, orders.c.created_at)
                )
            ).one()
    except IntegrityError:
        # The same key, committed by a concurrent request a moment ago: that order is the answer.
        await session.rollback()
        assert idempotency_key is not None
        existing = await order_by_key(session, idempotency_key)
        if existing is None:
            raise
        return existing, False
    await session.execute(
        insert(order_lines),
        [
            {
                "order_id": order.id,
                "product_id": p.product_id,
                "session_id": p.session_id,
                "quantity": p.quantity,
                "unit_price": p.unit_price,
                "discount": p.discount,
                "line_total": p.line_total,
            }
            for p in priced
        ],
    )
    await _record_created(session, staff, order, customer_id, total)
    uow.emit(
        OrderCreated(
            correlation_id=str(order.id),
            data=OrderCreatedData(
                order_id=order.id,
                customer_id=customer_id,
                status=order.status,
                currency="THB",
                total=total,
                lines=priced,
                first_touch=touch(customer.first_touch),
                latest_touch=touch(customer.latest_touch),
                created_at=order.created_at,
            ),
        )
    )
    await uow.commit()
    return order.id, True


async def _price(session: AsyncSession, lines: list[LineRequest]) -> list[OrderLine]:
    """Each line at the catalog's current price, its session's seats booked."""
    wanted = {line.product_id for line in lines}
    found = {
        r.id: r
        for r in await session.execute(
            select(
                products.c.id, products.c.name_th, products.c.price, products.c.active, products.c.kind
            ).where(products.c.id.in_(wanted))
        )
    }
    priced: list[OrderLine] = []
    for line in lines:
        product = found.get(line.product_id)
        if product is None or not product.active:
            raise OrderRejected(f"The product {str(line.product_id)!r} does not exist or is not sold now.")
        gross = (product.price * line.quantity).quantize(CENT)
        if line.discount > gross:
            raise OrderRejected(f"The discount on {product.name_th} is more than the line's {gross} THB.")
        if line.session_id is not None:
            await _book(session, line, product.kind)
        priced.append(
            OrderLine(
                product_id=product.id,
                product_name=product.name_th,
                session_id=line.session_id,
                quantity=line.quantity,
                unit_price=product.price,
                discount=line.discount,
                line_total=gross - line.discount,
            )
        )
    return priced


async def _record_created(
    session: AsyncSession, staff: Staff, order: Any, customer_id: str, total: Decimal
) -> None:
    await audit.record(
        session,
        actor=staff,
        action="order.create",
        entity=("order", str(order.id)),
        after={"customer_id": customer_id, "status": order.status, "total": total},
    )
    await timeline.add(
        session,
        customer_id,
        "order_created",
        order.created_at,
        {"order_id": str(order.id), "amount": str(total), "status": order.status},
        source_id=f"order:{order.id}:created",
    )


async def _book(session: AsyncSession, line: LineRequest, kind: str) -> None:
    booked = (
        await session.execute(
            update(course_sessions)
            .where(
                course_sessions.c.id == line.session_id,
                course_sessions.c.product_id == line.product_id,
                course_sessions.c.seats_taken + line.quantity <= course_sessions.c.capacity,
            )
            .values(seats_taken=course_sessions.c.seats_taken + line.quantity)
            .returning(course_sessions.c.id)
        )
    ).first()
    if booked is not None:
        return
    left = (
        await session.execute(
            select(course_sessions.c.capacity - course_sessions.c.seats_taken).where(
                course_sessions.c.id == line.session_id, course_sessions.c.product_id == line.product_id
            )
        )
    ).scalar_one_or_none()
    if left is None:
        raise OrderRejected(f"The session {str(line.session_id)!r} is not a session of this course ({kind}).")
    raise SoldOut(f"Only {left} seats are left in this session; {line.quantity} were asked for.")


# --- reads ----------------------------------------------------------------------------------------


async def get_order(session: AsyncSession, order_id: uuid.UUID) -> OrderView:
    order = (await session.execute(select(orders).where(orders.c.id == order_id))).one_or_none()
    if order is None:
        raise CatalogNotFound(f"No order has the id {str(order_id)!r}.")
    lines = await session.execute(
        select(order_lines, products.c.name_th.label("product_name"))
        .join(products, products.c.id == order_lines.c.product_id)
        .where(order_lines.c.order_id == order_id)
        .order_by(order_lines.c.id)
    )
    paid = await session.execute(
        select(payments).where(payments.c.order_id == order_id).order_by(payments.c.created_at, payments.c.id)
    )
    return OrderView(order, list(lines), list(paid))


async def list_orders(
    session: AsyncSession,
    *,
    limit: int,
    cursor: str | None,
    customer_id: str | None = None,
    status: str | None = None,
) -> OrderPage:
    """Newest first, in pages that continue after the cursor's (created_at, id): no gaps, no
    repeats, however many orders arrive meanwhile."""
    query = select(orders).order_by(orders.c.created_at.desc(), orders.c.id.desc()).limit(limit + 1)
    if customer_id is not None:
        query = query.where(orders.c.customer_id == customer_id)
    if status is not None:
        query = query.where(orders.c.status == status)
    if cursor is not None:
        at, last_id = decode_cursor(cursor)
        query = query.where(
            tuple_(orders.c.created_at, orders.c.id)
            < tuple_(literal(at, orders.c.created_at.type), literal(last_id, orders.c.id.type))
        )
    rows = list(await session.execute(query))
    items = rows[:limit]
    return OrderPage(items, encode_cursor(items[-1]) if len(rows) > limit else None)


def encode_cursor(last: Any) -> str:
    """Opaque to clients: the keyset (created_at, id) of the last order of a page."""
    raw = json.dumps([last.created_at.isoformat(), str(last.id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, order_id = json.loads(raw)
        at = datetime.fromisoformat(created_at)
        if at.tzinfo is None:
            raise ValueError("a keyset time has its zone")
        return at, uuid.UUID(order_id)
    except (binascii.Error, ValueError, TypeError, AttributeError) as exc:
        raise InvalidParameter("cursor", "query", "Not a cursor this API returned.") from exc
