"""Payments, refunds and cancelling: the only ways an order's status and `paid` change.

    pending --payments reach the total--> paid --everything refunded--> refunded
    pending --nothing paid, cancelled--> cancelled (its seats are given back)

Every change locks the order row (`SELECT ... FOR UPDATE`) first, so concurrent payments are
checked one after another against what is still due and can never overpay. A bank reference is
recorded once per order: the UNIQUE constraint decides, and a repeat is a 409. A partial refund
keeps the status (`paid` shrinks); only refunding everything makes a paid order `refunded`, and a
pending order that gave its deposit back stays pending, so it can still be cancelled.

Each change writes the payment row, the audit entry, the customer's timeline entry and an
`order.status_changed` event (with the order's stamped attribution) in one transaction. A cancel
gives the seats back through the catalog (`catalog.service.release_seats`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import OrderStatusChanged, OrderStatusChangedData
from crm_gateway.audit import service as audit
from crm_gateway.auth.domain import Staff
from crm_gateway.catalog import service as catalog
from crm_gateway.catalog.service import CatalogNotFound
from crm_gateway.customers import timeline
from crm_gateway.errors import Problem
from crm_gateway.orders import repository
from crm_gateway.orders.service import CENT, touch
from crm_servicekit.outbox import UnitOfWork

Method = Literal["transfer", "card", "cash", "promptpay"]
ALLOWED = "Allowed: pending → paid → refunded, and pending → cancelled."


class TransitionNotAllowed(Problem):
    """The order's status does not allow this change; `detail` says what is allowed."""

    status = 409
    slug = "order-transition-not-allowed"
    title = "Not allowed in the order's status"


class DuplicateReference(Problem):
    status = 409
    slug = "duplicate-payment-reference"
    title = "This reference is already recorded"


class AmountRejected(Problem):
    """An amount larger than what is due (or refundable); names the field and the limit."""

    status = 422
    slug = "amount-rejected"
    title = "Invalid amount"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, errors=[{"field": "amount", "location": "body", "detail": detail}])


KINDS: dict[str, Literal["payment", "refund", "cancel"]] = {
    "order.pay": "payment",
    "order.refund": "refund",
    "order.cancel": "cancel",
}


@dataclass(frozen=True)
class Payment:
    """A payment or refund as staff record it (amounts in THB, exact)."""

    amount: Decimal
    method: Method
    reference: str | None = None
    received_at: datetime | None = None
    reason: str | None = None


async def pay(uow: UnitOfWork, staff: Staff, order_id: uuid.UUID, money: Payment) -> None:
    """Record a payment on a pending order; the order is `paid` once payments reach its total."""
    session = uow.session
    order = await _locked(session, order_id)
    if order.status != "pending":
        raise TransitionNotAllowed(f"A {order.status} order takes no payments. {ALLOWED}")
    amount = money.amount.quantize(CENT)
    due = order.total - order.paid
    if amount > due:
        raise AmountRejected(f"The amount {amount} THB is more than the {due} THB still due on this order.")
    payment_id = await _insert(session, staff, order_id, "payment", money, amount)
    paid = order.paid + amount
    changed = await _set(session, order, "paid" if paid == order.total else "pending", paid)
    await _record(
        uow, staff, order, changed, action="order.pay", amount=amount, method=money.method, money=money
    )
    assert money.received_at is not None
    await timeline.add(
        session,
        order.customer_id,
        "payment_recorded",
        money.received_at,
        _detail(changed, amount, money.method),
        source_id=f"payment:{payment_id}",
    )
    await uow.commit()


async def refund(uow: UnitOfWork, staff: Staff, order_id: uuid.UUID, money: Payment) -> None:
    """Give back up to what was paid. All of it makes a paid order `refunded`; less keeps it."""
    session = uow.session
    order = await _locked(session, order_id)
    if order.status not in ("pending", "paid"):
        raise TransitionNotAllowed(f"A {order.status} order cannot be refunded. {ALLOWED}")
    if order.paid == 0:
        raise TransitionNotAllowed(f"Nothing was paid on this order, so nothing can be refunded. {ALLOWED}")
    amount = money.amount.quantize(CENT)
    if amount > order.paid:
        raise AmountRejected(f"The amount {amount} THB is more than the {order.paid} THB paid on this order.")
    payment_id = await _insert(session, staff, order_id, "refund", money, amount)
    paid = order.paid - amount
    changed = await _set(
        session, order, "refunded" if order.status == "paid" and paid == 0 else order.status, paid
    )
    await _record(
        uow, staff, order, changed, action="order.refund", amount=amount, method=money.method, money=money
    )
    await timeline.add(
        session,
        order.customer_id,
        "order_status_changed",
        changed.updated_at,
        _detail(changed, amount, money.method, previous=order.status),
        source_id=f"refund:{payment_id}",
    )
    await uow.commit()


async def cancel(uow: UnitOfWork, staff: Staff, order_id: uuid.UUID) -> None:
    """Cancel a pending order nothing is paid on, giving its session seats back."""
    session = uow.session
    order = await _locked(session, order_id)
    if order.status != "pending":
        raise TransitionNotAllowed(f"A {order.status} order cannot be cancelled. {ALLOWED}")
    if order.paid > 0:
        raise TransitionNotAllowed(
            f"{order.paid} THB is paid on this order: refund it before cancelling. {ALLOWED}"
        )
    await _release_seats(session, order_id)
    changed = await _set(session, order, "cancelled", order.paid)
    await _record(uow, staff, order, changed, action="order.cancel", amount=None, method=None, money=None)
    await timeline.add(
        session,
        order.customer_id,
        "order_status_changed",
        changed.updated_at,
        _detail(changed, None, None, previous=order.status),
        source_id=f"order:{order_id}:cancelled",
    )
    await uow.commit()


async def _locked(session: AsyncSession, order_id: uuid.UUID) -> Any:
    """The order row, locked until the transaction ends: one change at a time per order."""
    order = await repository.lock_order(session, order_id)
    if order is None:
        raise CatalogNotFound(f"No order has the id {str(order_id)!r}.")
    return order


async def _insert(
    session: AsyncSession, staff: Staff, order_id: uuid.UUID, kind: str, money: Payment, amount: Decimal
) -> uuid.UUID:
    """The payment or refund row; a reference already recorded on this order is refused (409)."""
    payment_id = await repository.insert_payment(
        session,
        order_id=order_id,
        kind=kind,
        method=money.method,
        amount=amount,
        received_at=money.received_at,
        reference=money.reference,
        reason=money.reason,
        recorded_by=staff.id,
    )
    if payment_id is None:
        raise DuplicateReference(
            f"A {kind} with the reference {money.reference!r} is already recorded on this order."
        )
    return payment_id


async def _set(session: AsyncSession, order: Any, status: str, paid: Decimal) -> Any:
    return await repository.set_status(session, order.id, status, paid)


async def _release_seats(session: AsyncSession, order_id: uuid.UUID) -> None:
    """Give back every seat the order booked (the catalog gives them back session by session in
    id order, so two cancels sharing sessions lock them in the same order and never deadlock)."""
    await catalog.release_seats(session, await repository.booked_seats(session, order_id))


async def _record(
    uow: UnitOfWork,
    staff: Staff,
    before: Any,
    after: Any,
    *,
    action: str,
    amount: Decimal | None,
    method: Method | None,
    money: Payment | None,
) -> None:
    """The audit entry and the `order.status_changed` event of one change."""
    change: dict[str, Any] = {"status": after.status, "paid": after.paid}
    if money is not None:
        # Not the refund's reason: free text staff type may name people.
        change.update(amount=amount, method=method, reference=money.reference)
    await audit.record(
        uow.session,
        actor=staff,
        action=action,
        entity=("order", str(after.id)),
        before={"status": before.status, "paid": before.paid},
        after=change,
    )
    attribution = after.attribution or {}
    uow.emit(
        OrderStatusChanged(
            correlation_id=str(after.id),
            data=OrderStatusChangedData(
                order_id=after.id,
                customer_id=after.customer_id,
                status=after.status,
                previous_status=before.status,
                currency=after.currency,
                total=after.total,
                paid=after.paid,
                amount=amount,
                method=method,
                first_touch=touch(attribution.get("first_touch")),
                latest_touch=touch(attribution.get("latest_touch")),
                changed_at=after.updated_at,
                kind=KINDS[action],
                moved_at=(money.received_at or after.updated_at) if money is not None else None,
                order_created_at=after.created_at,
            ),
        )
    )


def _detail(
    order: Any, amount: Decimal | None, method: str | None, previous: str | None = None
) -> dict[str, Any]:
    """A timeline entry's detail: ids, amounts as exact strings, statuses; nothing personal."""
    detail: dict[str, Any] = {"order_id": str(order.id), "status": order.status, "paid": str(order.paid)}
    if amount is not None:
        detail["amount"] = str(amount)
    if method is not None:
        detail["method"] = method
    if previous is not None:
        detail["previous_status"] = previous
    return detail
