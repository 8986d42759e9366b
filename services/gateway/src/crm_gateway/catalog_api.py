"""`/api/v1/products` and `/api/v1/orders`: the catalog and the orders staff take.

Prices are THB with exact decimals, sent and returned as strings with at most two decimals
(`"12500.00"`). `POST /orders` honours an `Idempotency-Key` header: a repeat returns the first
order (200) instead of taking a second one (201).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Response
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator

from . import catalog
from .auth.api import CurrentStaff
from .auth.permissions import Permission, allow
from .deps import SessionDep, UowDep

Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, examples=["12500.00"])]

products_router = APIRouter(prefix="/products", tags=["catalog"])
orders_router = APIRouter(prefix="/orders", tags=["orders"])


class ProductIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "course",
                    "name_th": "คอร์สซูชิพื้นฐาน",
                    "name_en": "Sushi basics",
                    "category": "sushi",
                    "price": "12500.00",
                    "duration_minutes": 360,
                }
            ]
        },
    )

    kind: Literal["course", "package", "equipment", "menu_item"]
    name_th: str = Field(min_length=1, max_length=300)
    name_en: str | None = Field(default=None, max_length=300)
    description_th: str | None = Field(default=None, max_length=10_000)
    description_en: str | None = Field(default=None, max_length=10_000)
    category: str | None = Field(default=None, max_length=100)
    price: Money
    duration_minutes: int | None = Field(default=None, gt=0, le=60 * 24 * 365)
    image_urls: list[AnyHttpUrl] = Field(default_factory=list, max_length=20)
    active: bool = True


class ProductPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"price": "13900.00"}]})

    name_th: str | None = Field(default=None, min_length=1, max_length=300)
    name_en: str | None = Field(default=None, max_length=300)
    category: str | None = Field(default=None, max_length=100)
    price: Money | None = None
    active: bool | None = None


class ProductOut(BaseModel):
    id: uuid.UUID
    kind: str
    name_th: str
    name_en: str | None
    description_th: str | None
    description_en: str | None
    category: str | None
    price: Decimal
    duration_minutes: int | None
    image_urls: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime


class SessionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "starts_at": "2026-12-05T10:00:00+07:00",
                    "ends_at": "2026-12-05T16:00:00+07:00",
                    "capacity": 10,
                }
            ]
        },
    )

    starts_at: datetime
    ends_at: datetime
    capacity: int = Field(gt=0, le=1000)

    @model_validator(mode="after")
    def ends_after_start(self) -> SessionIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class SessionOut(BaseModel):
    id: uuid.UUID
    product_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    capacity: int
    seats_left: int


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    session_id: uuid.UUID | None = Field(default=None, description="For a course: the session booked.")
    quantity: int = Field(default=1, gt=0, le=100)
    discount: Money = Decimal("0.00")


class OrderIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "TVS-CUS-FB-26-0001",
                    "lines": [
                        {
                            "product_id": "0b8f5a52-2c1e-4c55-9a3e-5d8f0e7b2a10",
                            "session_id": "5e1d7c3b-8a2f-4b6e-9d0c-1a2b3c4d5e6f",
                            "quantity": 1,
                            "discount": "500.00",
                        }
                    ],
                }
            ]
        },
    )

    customer_id: str = Field(min_length=1, max_length=40)
    lines: list[LineIn] = Field(min_length=1, max_length=50)


class OrderLineOut(BaseModel):
    product_id: uuid.UUID
    product_name: str
    session_id: uuid.UUID | None
    quantity: int
    unit_price: Decimal
    discount: Decimal
    line_total: Decimal


class OrderOut(BaseModel):
    id: uuid.UUID
    customer_id: str
    status: str
    currency: str
    total: Decimal
    lines: list[OrderLineOut]
    attribution: dict[str, Any]
    created_at: datetime


def _session_out(row: Any) -> SessionOut:
    return SessionOut(
        id=row.id,
        product_id=row.product_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        capacity=row.capacity,
        seats_left=row.capacity - row.seats_taken,
    )


@products_router.post(
    "", status_code=201, summary="Add a product", dependencies=[allow(Permission.CATALOG_WRITE)]
)
async def create_product(body: ProductIn, uow: UowDep) -> ProductOut:
    """Published as `catalog.product_changed`. Permission: `catalog:write`."""
    values = body.model_dump(mode="python")
    values["image_urls"] = [str(u) for u in body.image_urls]
    async with uow:
        row = await catalog.create_product(uow, values)
    return ProductOut.model_validate(row, from_attributes=True)


@products_router.patch(
    "/{product_id}",
    summary="Change a product (e.g. its price)",
    dependencies=[allow(Permission.CATALOG_WRITE)],
)
async def update_product(product_id: uuid.UUID, body: ProductPatch, uow: UowDep) -> ProductOut:
    """Published as `catalog.product_changed`. Permission: `catalog:write`."""
    values = body.model_dump(exclude_unset=True)
    async with uow:
        row = await catalog.update_product(uow, product_id, values)
    return ProductOut.model_validate(row, from_attributes=True)


@products_router.post(
    "/{product_id}/sessions",
    status_code=201,
    summary="Schedule a session of a course",
    dependencies=[allow(Permission.CATALOG_WRITE)],
)
async def create_session(product_id: uuid.UUID, body: SessionIn, uow: UowDep) -> SessionOut:
    """Permission: `catalog:write`."""
    async with uow:
        row = await catalog.create_session(uow, product_id, body.model_dump())
    return _session_out(row)


@orders_router.post(
    "",
    status_code=201,
    summary="Take an order (books session seats; never oversells)",
    dependencies=[allow(Permission.ORDER_WRITE)],
)
async def create_order(
    body: OrderIn,
    staff: CurrentStaff,
    uow: UowDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> OrderOut:
    """Unit prices come from the catalog. 409 when a session has too few seats left; 200 with the
    first order when the `Idempotency-Key` was seen before. Permission: `order:write`."""
    lines = [catalog.LineRequest(li.product_id, li.quantity, li.discount, li.session_id) for li in body.lines]
    async with uow:
        order_id, created = await catalog.create_order(
            uow, customer_id=body.customer_id, lines=lines, staff_id=staff.id, idempotency_key=idempotency_key
        )
        if not created:
            response.status_code = 200
        return await _order_out(uow.session, order_id)


@orders_router.get("/{order_id}", summary="One order", dependencies=[allow(Permission.CUSTOMER_READ)])
async def get_order(order_id: uuid.UUID, session: SessionDep) -> OrderOut:
    """Permission: `customer:read`."""
    return await _order_out(session, order_id)


async def _order_out(session: Any, order_id: uuid.UUID) -> OrderOut:
    order, lines = await catalog.get_order(session, order_id)
    return OrderOut(
        id=order.id,
        customer_id=order.customer_id,
        status=order.status,
        currency=order.currency,
        total=order.total,
        attribution=order.attribution,
        created_at=order.created_at,
        lines=[OrderLineOut.model_validate(line, from_attributes=True) for line in lines],
    )
