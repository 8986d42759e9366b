"""Orders: taking them (prices from the catalog, seats booked) and reading them.

Booking a session's seats is one conditional UPDATE (`seats_taken + n <= capacity`), so no
concurrency can oversell it; an order is all or nothing. The customer's ad attribution is stamped
on the order when it is taken, so later payments are credited to the ad that brought the sale.
Payments, refunds and cancelling are in `payments`.

Prices, product names and seats are the catalog's (`crm_gateway.catalog.service`), the customer's
ad touches the customers capability's (`customers.service.order_attribution`, which also refuses
a merged or erased customer); when customers
merge, that capability moves the orders with `move_customer_orders`.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import AdReferral, OrderCreated, OrderCreatedData, OrderLine
from crm_gateway.audit import service as audit
from crm_gateway.auth.domain import Staff
from crm_gateway.auth.errors import Forbidden
from crm_gateway.catalog import service as catalog
from crm_gateway.catalog.service import CatalogNotFound
from crm_gateway.customers import service as customers
from crm_gateway.customers import timeline
from crm_gateway.errors import InvalidParameter, Problem
from crm_gateway.orders import repository
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
class LineView:
    """An order line as staff read it, with its product's Thai name."""

    id: int
    order_id: uuid.UUID
    product_id: uuid.UUID
    product_name: str
    session_id: uuid.UUID | None
    quantity: int
    unit_price: Decimal
    discount: Decimal
    line_total: Decimal


@dataclass(frozen=True)
class OrderView:
    """An order with its lines and its payments and refunds, oldest first."""

    row: Any
    lines: list[LineView]
    payments: list[Any]


@dataclass(frozen=True)
class OrderPage:
    items: list[Any]
    next_cursor: str | None


def touch(value: Any) -> AdReferral | None:
    return AdReferral.model_validate(value) if value else None


async def order_by_key(session: AsyncSession, key: str) -> uuid.UUID | None:
    return await repository.order_id_by_key(session, key)


async def create_order(
    uow: UnitOfWork,
    *,
    customer_id: str,
    lines: list[LineRequest],
    staff: Staff,
    idempotency_key: str | None,
    discount_cap: Decimal | None,
) -> tuple[uuid.UUID, bool]:
    """Take an order; returns (its id, True) or, for a repeated Idempotency-Key, (the first
    order's id, False). Raises a `Problem` a user can read when it cannot be taken, a 403 when a
    line's discount is above `discount_cap` percent of the line. Required, so no caller skips the
    rule by forgetting it: None only for staff with `order:discount_over_cap` (orders.api).

    The caller commits a new order (after reading it back in the same transaction: one
    transaction per order, not a second one for the answer); a repeated key writes nothing."""
    session = uow.session
    if idempotency_key is not None and (existing := await order_by_key(session, idempotency_key)):
        return existing, False
    touches = await customers.order_attribution(session, customer_id)
    if touches is None:
        raise OrderRejected(f"No customer has the id {customer_id!r}.")
    priced = await _price(session, lines, staff, discount_cap)
    total = sum((p.line_total for p in priced), Decimal("0.00"))
    attribution = {"first_touch": touches.first_touch, "latest_touch": touches.latest_touch}
    order = await repository.insert_order(
        session,
        {
            "customer_id": customer_id,
            "total": total,
            "attribution": attribution,
            "idempotency_key": idempotency_key,
            "created_by": staff.id,
        },
    )
    if order is None:
        # The same key, committed by a concurrent request a moment ago: that order is the answer
        # (this transaction, seats booked included, is rolled back when the unit of work ends).
        existing = await order_by_key(session, idempotency_key) if idempotency_key is not None else None
        if existing is None:
            raise RuntimeError("an order was left out with no order holding its Idempotency-Key")
        return existing, False
    await repository.insert_lines(
        session,
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
                first_touch=touch(attribution["first_touch"]),
                latest_touch=touch(attribution["latest_touch"]),
                created_at=order.created_at,
            ),
        )
    )
    return order.id, True


async def _price(
    session: AsyncSession, lines: list[LineRequest], staff: Staff, cap: Decimal | None
) -> list[OrderLine]:
    """Each line at the catalog's current price, its discount within the cap, its session's seats
    booked."""
    wanted = {line.product_id for line in lines}
    found = await catalog.products_for_order(session, wanted)
    priced: list[OrderLine] = []
    for line in lines:
        product = found.get(line.product_id)
        if product is None or not product.active:
            raise OrderRejected(f"The product {str(line.product_id)!r} does not exist or is not sold now.")
        gross = (product.price * line.quantity).quantize(CENT)
        if line.discount > gross:
            raise OrderRejected(f"The discount on {product.name_th} is more than the line's {gross} THB.")
        if cap is not None and line.discount * 100 > gross * cap:
            raise Forbidden(
                f"A discount of {line.discount} THB on {product.name_th} is more than "
                f"{cap.normalize():f} % of the line's {gross} THB, the most your role "
                f"({staff.role.value}) may give; a discount above it needs order:discount_over_cap "
                "(a manager or admin)."
            )
        if line.session_id is not None:
            await _book(session, line, product.kind)
        priced.append(
            OrderLine(
                product_id=product.id,
                product_name=product.name_th,
                product_kind=product.kind,  # type: ignore[arg-type]  # the catalog's CHECK holds it to the four
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
    assert line.session_id is not None
    if await catalog.book_seats(session, line.session_id, line.product_id, line.quantity):
        return
    left = await catalog.seats_left(session, line.session_id, line.product_id)
    if left is None:
        raise OrderRejected(f"The session {str(line.session_id)!r} is not a session of this course ({kind}).")
    raise SoldOut(f"Only {left} seats are left in this session; {line.quantity} were asked for.")


# --- reads ----------------------------------------------------------------------------------------


async def get_order(session: AsyncSession, order_id: uuid.UUID) -> OrderView:
    order = await repository.order(session, order_id)
    if order is None:
        raise CatalogNotFound(f"No order has the id {str(order_id)!r}.")
    rows = await repository.lines_of(session, order_id)
    paid = await repository.payments_of(session, order_id)
    names = await catalog.product_names(session, {r.product_id for r in rows})
    lines = [
        LineView(
            id=r.id,
            order_id=r.order_id,
            product_id=r.product_id,
            product_name=names[r.product_id],
            session_id=r.session_id,
            quantity=r.quantity,
            unit_price=r.unit_price,
            discount=r.discount,
            line_total=r.line_total,
        )
        for r in rows
    ]
    return OrderView(order, lines, paid)


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
    after = decode_cursor(cursor) if cursor is not None else None
    rows = await repository.page(
        session, limit=limit + 1, after=after, customer_id=customer_id, status=status
    )
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


# --- customers merged -----------------------------------------------------------------------------


async def move_customer_orders(
    session: AsyncSession, source: str, target: str, only: Sequence[uuid.UUID] | None = None
) -> list[uuid.UUID]:
    """When customers merge: give `source`'s orders to `target` (all, or only those among `only`,
    when a merge is undone); the ids moved, in the order the UPDATE returned them."""
    return await repository.move_customer_orders(session, source, target, only)
