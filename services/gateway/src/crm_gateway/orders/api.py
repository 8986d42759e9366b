"""`/api/v1/orders`: the orders staff take, their payments, refunds and cancelling.

Amounts are THB with exact decimals, sent and returned as strings with at most two decimals
(`"12500.00"`); a third decimal is refused naming the field. `POST /orders` honours an
`Idempotency-Key` header: a repeat returns the first order (200) instead of taking a second one
(201). An order's status moves only as `pending → paid → refunded` or `pending → cancelled`;
anything else is a 409 that says what is allowed. A partial refund keeps an order `paid` with
`paid` reduced; only refunding everything makes it `refunded`.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.auth.api import CurrentStaff
from crm_gateway.auth.permissions import Permission, allow, allows
from crm_gateway.deps import SessionDep, SettingsDep, UowDep, idempotency_key_header
from crm_gateway.errors import problem_responses
from crm_gateway.etags import etag
from crm_gateway.orders import payments
from crm_gateway.orders import service as orders
from crm_gateway.orders.schemas import (
    ORDER_EXAMPLE,
    PAYMENT_EXAMPLE,
    REFUND_EXAMPLE,
    OrderIn,
    OrderLineOut,
    OrderOut,
    OrderPageOut,
    OrderSummary,
    PaymentIn,
    PaymentOut,
    RefundIn,
    Status,
)

MAX_PAGE_SIZE = 200

router = APIRouter(prefix="/orders", tags=["orders"])

_DESCRIBED = {
    403: "The signed-in staff user's role does not allow this (e.g. a discount above the cap).",
    404: "No order has this id.",
    409: "Not allowed now: too few seats left, a payment reference already recorded on this order, or a "
    "status change the order's status does not allow (`detail` says what is allowed).",
    422: "A field is invalid (e.g. an amount with three decimals or more than is due); `errors` names it.",
}


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return problem_responses(_DESCRIBED, *statuses)


def _summary_fields(row: Any) -> dict[str, Any]:
    due = row.total - row.paid if row.status == "pending" else Decimal("0.00")
    return {name: getattr(row, name) for name in OrderSummary.model_fields if name != "due"} | {"due": due}


async def _order_out(session: AsyncSession, order_id: uuid.UUID, response: Response) -> OrderOut:
    view = await orders.get_order(session, order_id)
    response.headers["ETag"] = etag(view.row.version)
    return OrderOut(
        **_summary_fields(view.row),
        attribution=view.row.attribution,
        lines=[OrderLineOut.model_validate(line, from_attributes=True) for line in view.lines],
        payments=[PaymentOut.model_validate(p, from_attributes=True) for p in view.payments],
    )


@router.post(
    "",
    status_code=201,
    summary="Take an order (books session seats; never oversells)",
    responses=_problems(403, 409, 422),
    dependencies=[allow(Permission.ORDER_WRITE)],
)
async def create_order(
    body: Annotated[
        OrderIn, Body(openapi_examples={"course": {"summary": "One seat", "value": ORDER_EXAMPLE}})
    ],
    staff: CurrentStaff,
    uow: UowDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: Annotated[
        str | None, idempotency_key_header("A repeat returns the first order (200).")
    ] = None,
) -> OrderOut:
    """Unit prices come from the catalog (a package at its own price). 409 when a session has too
    few seats left, or for a customer merged into another (the answer names it) or erased; 200 with
    the first order when the `Idempotency-Key` was seen before. Audited
    (`order.create`) and on the customer's timeline. Permission: `order:write`; a line discounted
    above `ORDER_DISCOUNT_CAP_PERCENT` of its price × quantity (20 % by default) also needs
    `order:discount_over_cap` (403 otherwise)."""
    lines = [orders.LineRequest(li.product_id, li.quantity, li.discount, li.session_id) for li in body.lines]
    over_cap = allows(staff.role, Permission.ORDER_DISCOUNT_OVER_CAP)
    cap = None if over_cap else settings.order_discount_cap_percent
    async with uow:
        order_id, created = await orders.create_order(
            uow,
            customer_id=body.customer_id,
            lines=lines,
            staff=staff,
            idempotency_key=idempotency_key,
            discount_cap=cap,
        )
        answer = await _order_out(uow.session, order_id, response)
        if created:
            await uow.commit()
        else:
            response.status_code = 200
        return answer


@router.get(
    "",
    summary="Orders, newest first (by customer, by status)",
    responses=_problems(422),
    dependencies=[allow(Permission.CUSTOMER_READ)],
)
async def list_orders(
    session: SessionDep,
    customer_id: Annotated[str | None, Query(max_length=40, description="Only this customer's.")] = None,
    status: Annotated[Status | None, Query(description="Only orders in this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> OrderPageOut:
    """Pages never skip or repeat an order. Permission: `customer:read`."""
    page = await orders.list_orders(
        session, limit=limit, cursor=cursor, customer_id=customer_id, status=status
    )
    return OrderPageOut(
        items=[OrderSummary(**_summary_fields(row)) for row in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{order_id}",
    summary="One order with its lines, payments and ETag",
    responses=_problems(404),
    dependencies=[allow(Permission.CUSTOMER_READ)],
)
async def get_order(order_id: uuid.UUID, session: SessionDep, response: Response) -> OrderOut:
    """The `ETag` is the order's version: it grows with every payment, refund or cancel.
    Permission: `customer:read`."""
    return await _order_out(session, order_id, response)


@router.post(
    "/{order_id}/payments",
    status_code=201,
    summary="Record a payment (the order is paid once payments reach its total)",
    responses=_problems(404, 409, 422),
    dependencies=[allow(Permission.ORDER_WRITE)],
)
async def record_payment(
    order_id: uuid.UUID,
    body: Annotated[
        PaymentIn,
        Body(
            openapi_examples={
                "transfer": {"summary": "A bank transfer, first half", "value": PAYMENT_EXAMPLE},
                "cash": {
                    "summary": "Cash at the desk",
                    "value": {
                        "method": "cash",
                        "amount": "500.00",
                        "received_at": "2026-12-02T10:05:00+07:00",
                    },
                },
            }
        ),
    ],
    staff: CurrentStaff,
    uow: UowDep,
    response: Response,
) -> OrderOut:
    """Only a pending order takes payments. Concurrent payments are checked one after another, so
    together they never pay more than the total: an amount above what is still due is a 422 naming
    `amount` and the amount due; a reference already recorded on this order is a 409. Published as
    `order.status_changed`, audited (`order.pay`), on the customer's timeline. Permission:
    `order:write`."""
    payment = payments.Payment(body.amount, body.method, body.reference, received_at=body.received_at)
    async with uow:
        await payments.pay(uow, staff, order_id, payment)
        return await _order_out(uow.session, order_id, response)


@router.post(
    "/{order_id}/refunds",
    status_code=201,
    summary="Refund a payment, in part or in full",
    description="Gives back up to what was paid. A full refund makes a paid order `refunded`; a partial "
    "refund keeps it `paid` with `paid` reduced (and a pending order that refunds a deposit stays "
    "`pending`, so it can still be cancelled). Published as `order.status_changed`, audited "
    "(`order.refund`), on the customer's timeline. Permission: `order:refund` (managers and admins).",
    responses=_problems(403, 404, 409, 422),
    dependencies=[allow(Permission.ORDER_REFUND)],
)
async def record_refund(
    order_id: uuid.UUID,
    body: Annotated[
        RefundIn,
        Body(
            openapi_examples={
                "partial": {"summary": "A partial refund", "value": REFUND_EXAMPLE},
                "full": {"summary": "Everything back", "value": {"method": "transfer", "amount": "12000.00"}},
            }
        ),
    ],
    staff: CurrentStaff,
    uow: UowDep,
    response: Response,
) -> OrderOut:
    """A partial refund keeps the order `paid` with `paid` reduced; a full one makes it `refunded`."""
    refund = payments.Payment(body.amount, body.method, body.reference, reason=body.reason)
    async with uow:
        await payments.refund(uow, staff, order_id, refund)
        return await _order_out(uow.session, order_id, response)


@router.post(
    "/{order_id}/cancel",
    summary="Cancel a pending order nothing is paid on (its seats are given back)",
    responses=_problems(404, 409),
    dependencies=[allow(Permission.ORDER_WRITE)],
)
async def cancel_order(order_id: uuid.UUID, staff: CurrentStaff, uow: UowDep, response: Response) -> OrderOut:
    """The session seats it booked are free again in the same transaction. A paid order is refunded
    instead (409). Published as `order.status_changed`, audited (`order.cancel`), on the customer's
    timeline. Permission: `order:write`."""
    async with uow:
        await payments.cancel(uow, staff, order_id)
        return await _order_out(uow.session, order_id, response)
