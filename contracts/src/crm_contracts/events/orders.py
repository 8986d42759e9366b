"""Order events: an order taken, and every payment, refund or cancel that followed.

Each carries the amounts (exact THB) and the ad attribution stamped on the order when it was taken,
so revenue can be attributed to ads and campaigns without calling the gateway back.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from crm_contracts.envelope import Event, EventData

from .attribution import AdReferral

ProductKind = Literal["course", "package", "equipment", "menu_item"]


class OrderLine(EventData):
    product_id: uuid.UUID
    product_name: str
    product_kind: ProductKind | None = Field(
        default=None,
        description="The catalog kind of the product when the order was taken (null in events sent "
        "before it was added).",
    )
    session_id: uuid.UUID | None = None
    quantity: int
    unit_price: Decimal
    discount: Decimal
    line_total: Decimal


class OrderCreatedData(EventData):
    order_id: uuid.UUID
    customer_id: str
    status: Literal["pending", "paid", "refunded", "cancelled"]
    currency: str
    total: Decimal = Field(description="THB, exact: the sum of the lines' totals.")
    lines: list[OrderLine]
    first_touch: AdReferral | None = Field(description="The customer's first ad when the order was taken.")
    latest_touch: AdReferral | None = Field(description="The customer's latest ad when the order was taken.")
    created_at: datetime


class OrderCreated(Event):
    """An order was taken; its amounts and the customer's ad attribution let revenue be
    attributed to ads and campaigns."""

    type: Literal["order.created"] = "order.created"
    producer: str = "gateway"
    data: OrderCreatedData


PaymentMethod = Literal["transfer", "card", "cash", "promptpay"]


class OrderStatusChangedData(EventData):
    order_id: uuid.UUID
    customer_id: str
    status: Literal["pending", "paid", "refunded", "cancelled"]
    previous_status: Literal["pending", "paid", "refunded", "cancelled"]
    currency: str
    total: Decimal = Field(description="THB, exact: the order's total.")
    paid: Decimal = Field(description="THB, exact: payments received minus refunds, after this change.")
    amount: Decimal | None = Field(
        default=None, description="THB, exact: the payment or refund that caused the change, if any."
    )
    method: PaymentMethod | None = None
    first_touch: AdReferral | None = Field(
        description="The attribution stamped on the order when it was taken."
    )
    latest_touch: AdReferral | None = None
    changed_at: datetime
    kind: Literal["payment", "refund", "cancel"] | None = Field(
        default=None, description="What caused the change (null in events sent before it was added)."
    )
    moved_at: datetime | None = Field(
        default=None,
        description="When the payment's money arrived as staff recorded it, or when the refund was made; "
        "revenue counts on this moment's Asia/Bangkok day. Null for a cancel.",
    )
    order_created_at: datetime | None = Field(
        default=None, description="When the order was taken: the attribution window ends there."
    )


class OrderStatusChanged(Event):
    """An order was paid, refunded or cancelled; revenue counts paid orders net of refunds.

    Sent for every payment, refund and cancel, also when the status stays: a part payment keeps
    an order `pending` (`paid` grows), a partial refund keeps it `paid` (`paid` shrinks). `amount`
    and `method` are the payment's or refund's (null for a cancel); `paid` is net of refunds.
    """

    type: Literal["order.status_changed"] = "order.status_changed"
    producer: str = "gateway"
    data: OrderStatusChangedData
