"""Orders, their lines, and the payments and refunds received on them (THB, exact)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from crm_gateway.db import metadata, one_of

ORDER_STATUSES = ("pending", "paid", "refunded", "cancelled")

PAYMENT_METHODS = ("transfer", "card", "cash", "promptpay")

PAYMENT_KINDS = ("payment", "refund")

orders = Table(
    "orders",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()),
    Column("customer_id", String(40), ForeignKey("gateway.customers.id"), nullable=False, index=True),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("currency", String(3), nullable=False, server_default="THB"),
    Column("total", Numeric(12, 2), nullable=False),
    # The customer's ad attribution when the order was taken (first and latest touch).
    Column("attribution", JSONB, nullable=False, server_default="{}"),
    # A repeated POST with the same key returns the first order instead of a second one.
    Column("idempotency_key", Text, nullable=True, unique=True),
    Column("created_by", UUID(as_uuid=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Payments received minus refunds (THB, exact), kept with the status in one row.
    Column("paid", Numeric(12, 2), nullable=False, server_default="0"),
    Column("version", Integer, nullable=False, server_default="1"),
    CheckConstraint(one_of("status", ORDER_STATUSES), name="status"),
    CheckConstraint("total >= 0", name="total"),
    CheckConstraint("paid >= 0", name="paid"),
    # Keyset pagination of the orders list, newest first, with or without a customer.
    Index("ix_gateway_orders_customer_created", "customer_id", "created_at", "id"),
    Index("ix_gateway_orders_created_at_id", "created_at", "id"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()),
    Column("order_id", UUID(as_uuid=True), ForeignKey("gateway.orders.id"), nullable=False, index=True),
    Column("kind", Text, nullable=False, server_default="payment"),
    Column("method", Text, nullable=False),
    Column("amount", Numeric(12, 2), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("reference", Text, nullable=True, comment="Bank, card or PromptPay reference."),
    Column("reason", Text, nullable=True, comment="Why a refund was given."),
    Column("recorded_by", UUID(as_uuid=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(one_of("kind", PAYMENT_KINDS), name="kind"),
    CheckConstraint(one_of("method", PAYMENT_METHODS), name="method"),
    CheckConstraint("amount > 0", name="amount"),
    # One bank reference is one payment: a repeated record of it is refused, not counted twice.
    UniqueConstraint("order_id", "kind", "reference"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("order_id", UUID(as_uuid=True), ForeignKey("gateway.orders.id"), nullable=False, index=True),
    Column("product_id", UUID(as_uuid=True), ForeignKey("gateway.products.id"), nullable=False),
    Column("session_id", UUID(as_uuid=True), ForeignKey("gateway.course_sessions.id"), nullable=True),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Numeric(12, 2), nullable=False),
    Column("discount", Numeric(12, 2), nullable=False, server_default="0"),
    Column("line_total", Numeric(12, 2), nullable=False),
    CheckConstraint("quantity > 0", name="quantity"),
    CheckConstraint("discount >= 0 AND line_total >= 0", name="amounts"),
    CheckConstraint("line_total = unit_price * quantity - discount", name="line_total"),
)
