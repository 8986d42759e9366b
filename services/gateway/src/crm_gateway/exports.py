"""The gateway's internal API (`/internal/v1`, on the internal port only, with the service
token; ADR 17): exports for a consumer rebuilding its copy from nothing, as the cache-writer's
`python -m crm_cache_writer rebuild` does. Each is a keyset-paged walk, oldest first, in the
shapes the events carry, so the consumer stores them as its subscribers would:

    GET /internal/v1/export/customers?after=&limit=   `customer.created` data, by (created_at, id)
    GET /internal/v1/export/orders?after=&limit=      `order.created` data, by (created_at, id)
    GET /internal/v1/export/payments?after=&limit=    `order.status_changed` data of every
                                                      payment and refund, order by order

`next_cursor` is opaque and null once a page comes back short; a full last page is followed by
an empty one. No names, phones or message text leave through these routes.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from crm_contracts import CustomerCreatedData, OrderCreatedData, OrderStatusChangedData
from crm_gateway.config import GatewaySettings
from crm_gateway.customers import exports as customers
from crm_gateway.orders import exports as orders
from crm_servicekit.internal import internal_router
from crm_servicekit.runtime import Runtime

MAX_PAGE = 5000
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
_NEXT = "Pass as `after` for the next page; null when this page was the last."
_TOTAL = "How many there are in all, on the first page (no `after`) only."


class CustomersPage(BaseModel):
    items: list[CustomerCreatedData]
    total: int | None = Field(default=None, description=_TOTAL)
    next_cursor: str | None = Field(description=_NEXT)


class OrdersPage(BaseModel):
    items: list[OrderCreatedData]
    total: int | None = Field(default=None, description=_TOTAL)
    next_cursor: str | None = Field(description=_NEXT)


class MoneyMoved(BaseModel):
    payment_id: uuid.UUID = Field(description="The payment or refund: a stable key for it.")
    data: OrderStatusChangedData


class PaymentsPage(BaseModel):
    items: list[MoneyMoved]
    total: int | None = Field(default=None, description=_TOTAL)
    next_cursor: str | None = Field(description=_NEXT)


def encode(at: datetime, key: object) -> str:
    raw = json.dumps([at.isoformat(), str(key)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, str]:
    try:
        at, key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment = datetime.fromisoformat(at)
        if not isinstance(key, str) or not 0 < len(key) <= 40 or moment.tzinfo is None:
            raise TypeError("not a key")
        return moment, key
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise HTTPException(422, "after: not a cursor this API returned") from exc


def _order_key(cursor: str | None) -> orders.OrderKey | None:
    if cursor is None:
        return None
    at, key = decode(cursor)
    try:
        return at, uuid.UUID(key)
    except ValueError as exc:
        raise HTTPException(422, "after: not a cursor this API returned") from exc


def _next(rows: list[Any], limit: int) -> str | None:
    return encode(*rows[-1][0]) if len(rows) == limit else None


def router(runtime: Runtime, settings: GatewaySettings) -> APIRouter:
    # Not in the OpenAPI document: it is the staff API's contract (the web app's client is
    # generated from it), and these routes are not on the staff's port.
    api = internal_router(settings.crm_internal_token)

    @api.get("/export/customers", response_model=CustomersPage, include_in_schema=False)
    async def export_customers(after: str | None = None, limit: Limit = 1000) -> CustomersPage:
        """Every customer (merged and erased ones too) as `customer.created` describes one."""
        key = decode(after) if after else None
        async with runtime.sessionmaker() as session:
            rows = await customers.page(session, key, limit)
            total = None if after else await customers.count(session)
        return CustomersPage(items=[c for _, c in rows], total=total, next_cursor=_next(rows, limit))

    @api.get("/export/orders", response_model=OrdersPage, include_in_schema=False)
    async def export_orders(after: str | None = None, limit: Limit = 1000) -> OrdersPage:
        """Every order as `order.created` described it when it was taken."""
        async with runtime.sessionmaker() as session:
            rows = await orders.orders_page(session, _order_key(after), limit)
            total = None if after else await orders.count_orders(session)
        return OrdersPage(items=[o for _, o in rows], total=total, next_cursor=_next(rows, limit))

    @api.get("/export/payments", response_model=PaymentsPage, include_in_schema=False)
    async def export_payments(after: str | None = None, limit: Limit = 1000) -> PaymentsPage:
        """Every payment and refund as `order.status_changed` described it, of up to `limit`
        orders per page (orders by when they were taken, each order's in the order recorded)."""
        async with runtime.sessionmaker() as session:
            last, items, count = await _money(session, _order_key(after), limit)
            total = None if after else await orders.count_payments(session)
        more = last is not None and count == limit
        return PaymentsPage(
            items=[MoneyMoved(payment_id=p, data=d) for p, d in items],
            total=total,
            next_cursor=encode(*last) if more and last is not None else None,
        )

    return api


async def _money(
    session: Any, after: orders.OrderKey | None, limit: int
) -> tuple[orders.OrderKey | None, list[tuple[uuid.UUID, OrderStatusChangedData]], int]:
    last, items = await orders.money_page(session, after, limit)
    return last, items, len({d.order_id for _, d in items})
