"""The orders API's request and response models: an order in (its lines), a payment and a refund
in, an order out (summary, lines, payments, attribution) and a page of summaries. Amounts are THB
with at most two decimals, sent and returned as strings (`Money` is the catalog's)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from crm_gateway.catalog.schemas import Money
from crm_servicekit.storable import storable_moment

Amount = Annotated[
    Decimal, Field(gt=0, max_digits=12, decimal_places=2, examples=["5000.00"], description="THB, exact.")
]
Method = Literal["transfer", "card", "cash", "promptpay"]
Status = Literal["pending", "paid", "refunded", "cancelled"]


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    session_id: uuid.UUID | None = Field(default=None, description="For a course: the session booked.")
    quantity: int = Field(default=1, gt=0, le=100)
    discount: Money = Decimal("0.00")


ORDER_EXAMPLE: JsonDict = {
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
PAYMENT_EXAMPLE: JsonDict = {
    "method": "transfer",
    "amount": "6000.00",
    "received_at": "2026-12-01T14:30:00+07:00",
    "reference": "KBANK-20261201-0042",
}
REFUND_EXAMPLE: JsonDict = {"method": "transfer", "amount": "2000.00", "reason": "Moved to a shorter course"}


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ORDER_EXAMPLE]})

    customer_id: str = Field(min_length=1, max_length=40)
    lines: list[LineIn] = Field(min_length=1, max_length=50)


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [PAYMENT_EXAMPLE]})

    method: Method
    amount: Amount
    received_at: Annotated[AwareDatetime, AfterValidator(storable_moment)] = Field(
        description="When the money arrived, with its time zone."
    )
    reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The bank, card or PromptPay reference; one reference is recorded once per order.",
    )


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [REFUND_EXAMPLE]})

    method: Method
    amount: Amount
    reference: str | None = Field(default=None, min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=1000)


class OrderLineOut(BaseModel):
    product_id: uuid.UUID
    product_name: str
    session_id: uuid.UUID | None
    quantity: int
    unit_price: Decimal
    discount: Decimal
    line_total: Decimal


class PaymentOut(BaseModel):
    id: uuid.UUID
    kind: Literal["payment", "refund"]
    method: Method
    amount: Decimal
    received_at: datetime
    reference: str | None
    reason: str | None
    recorded_by: uuid.UUID | None
    created_at: datetime


class OrderSummary(BaseModel):
    id: uuid.UUID
    customer_id: str
    status: Status
    currency: str
    total: Decimal
    paid: Decimal = Field(description="Payments received minus refunds.")
    due: Decimal = Field(description="What is still to be paid: total minus paid (zero once paid).")
    created_at: datetime
    updated_at: datetime


class OrderOut(OrderSummary):
    lines: list[OrderLineOut]
    payments: list[PaymentOut] = Field(description="Payments and refunds, oldest first.")
    attribution: dict[str, Any]


class OrderPageOut(BaseModel):
    items: list[OrderSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")
