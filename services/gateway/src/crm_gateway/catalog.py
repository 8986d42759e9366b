"""The catalog (courses, packages, equipment, menu items, course sessions) and orders.

The catalog is the single truth for prices: an order line's unit price is the product's price when
the order is taken, and every product change is published (`catalog.product_changed`) so the AI
quotes current prices only. Booking a session's seats is one conditional UPDATE
(`seats_taken + n <= capacity`), so no concurrency can oversell it; an order is all or nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import (
    AdReferral,
    OrderCreated,
    OrderCreatedData,
    OrderLine,
    ProductChanged,
    ProductChangedData,
)
from crm_servicekit.outbox import UnitOfWork

from .errors import Problem
from .models import course_sessions, customers, order_lines, orders, products

CENT = Decimal("0.01")


class CatalogNotFound(Problem):
    status = 404
    slug = "not-found"
    title = "Not found"


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


def product_event(row: Any) -> ProductChanged:
    return ProductChanged(
        correlation_id=str(row.id),
        data=ProductChangedData(
            product_id=row.id,
            kind=row.kind,
            name_th=row.name_th,
            name_en=row.name_en,
            category=row.category,
            price=row.price,
            active=row.active,
            changed_at=row.updated_at,
        ),
    )


async def create_product(uow: UnitOfWork, values: dict[str, Any]) -> Any:
    row = (await uow.session.execute(insert(products).values(**values).returning(products))).one()
    uow.emit(product_event(row))
    await uow.commit()
    return row


async def update_product(uow: UnitOfWork, product_id: uuid.UUID, values: dict[str, Any]) -> Any:
    row = (
        await uow.session.execute(
            update(products)
            .where(products.c.id == product_id)
            .values(**values, updated_at=func.now())
            .returning(products)
        )
    ).one_or_none()
    if row is None:
        raise CatalogNotFound(f"No product has the id {str(product_id)!r}.")
    uow.emit(product_event(row))
    await uow.commit()
    return row


async def create_session(uow: UnitOfWork, product_id: uuid.UUID, values: dict[str, Any]) -> Any:
    kind = await uow.session.scalar(select(products.c.kind).where(products.c.id == product_id))
    if kind is None:
        raise CatalogNotFound(f"No product has the id {str(product_id)!r}.")
    if kind != "course":
        raise OrderRejected("Only courses have sessions.")
    row = (
        await uow.session.execute(
            insert(course_sessions).values(product_id=product_id, **values).returning(course_sessions)
        )
    ).one()
    await uow.commit()
    return row


async def order_by_key(session: AsyncSession, key: str) -> uuid.UUID | None:
    return await session.scalar(select(orders.c.id).where(orders.c.idempotency_key == key))


async def create_order(
    uow: UnitOfWork,
    *,
    customer_id: str,
    lines: list[LineRequest],
    staff_id: uuid.UUID,
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
                        created_by=staff_id,
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
                first_touch=_touch(customer.first_touch),
                latest_touch=_touch(customer.latest_touch),
                created_at=order.created_at,
            ),
        )
    )
    await uow.commit()
    return order.id, True


def _touch(value: Any) -> AdReferral | None:
    return AdReferral.model_validate(value) if value else None


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


async def get_order(session: AsyncSession, order_id: uuid.UUID) -> tuple[Any, list[Any]]:
    order = (await session.execute(select(orders).where(orders.c.id == order_id))).one_or_none()
    if order is None:
        raise CatalogNotFound(f"No order has the id {str(order_id)!r}.")
    lines = (
        await session.execute(
            select(order_lines, products.c.name_th.label("product_name"))
            .join(products, products.c.id == order_lines.c.product_id)
            .where(order_lines.c.order_id == order_id)
            .order_by(order_lines.c.id)
        )
    ).all()
    return order, list(lines)
