"""The gateway's own schema: staff logins, the customers, the catalog and the orders it owns."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from crm_servicekit.db import inbox_table, outbox_table, service_metadata

SCHEMA = "gateway"
metadata = service_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

ROLES = ("admin", "manager", "marketer", "agent", "viewer")
CUSTOMER_CHANNELS = ("FB", "LINE", "WEB", "WALKIN")
IDENTITY_CHANNELS = ("messenger", "line", "web", "walkin")
PRODUCT_KINDS = ("course", "package", "equipment", "menu_item")
ORDER_STATUSES = ("pending", "paid", "refunded", "cancelled")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


staff_users = Table(
    "staff_users",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()),
    # Stored lowercased, so the UNIQUE constraint is case-insensitive in effect.
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(_one_of("role", ROLES), name="role"),
    CheckConstraint("email = lower(email)", name="email_lowercase"),
)

customers = Table(
    "customers",
    metadata,
    # TVS-CUS-<channel>-<yy>-<seq:04d>, allocated from customer_id_sequences.
    Column("id", String(40), primary_key=True),
    Column("channel", String(10), nullable=False),
    Column("display_name", Text, nullable=True),
    Column("lifecycle_stage", Text, nullable=False, server_default="lead"),
    Column("first_touch", JSONB, nullable=True),
    Column("latest_touch", JSONB, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # The public Messenger profile (contact.profile_updated); display_name is derived from it
    # until someone names the customer otherwise.
    Column("first_name", Text, nullable=True),
    Column("last_name", Text, nullable=True),
    Column("profile_pic", Text, nullable=True),
    Column(
        "profile_fetched_at",
        DateTime(timezone=True),
        nullable=True,
        comment="When the stored profile was fetched; an older one arriving later is ignored.",
    ),
    CheckConstraint(_one_of("channel", CUSTOMER_CHANNELS), name="channel"),
    # Keyset pagination, newest first (a btree scans backwards just as well).
    Index("ix_gateway_customers_created_at_id", "created_at", "id"),
)

customer_identities = Table(
    "customer_identities",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column(
        "customer_id",
        String(40),
        ForeignKey("gateway.customers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("channel", String(20), nullable=False),
    Column("page_id", Text, nullable=True),
    Column("external_id", Text, nullable=False, comment="PSID for Messenger."),
    # One person on one channel (and page) is one customer; this constraint is what decides
    # between two concurrent first contacts. NULLS NOT DISTINCT: channels without pages too.
    UniqueConstraint("channel", "page_id", "external_id", postgresql_nulls_not_distinct=True),
    CheckConstraint(_one_of("channel", IDENTITY_CHANNELS), name="channel"),
)

customer_id_sequences = Table(
    "customer_id_sequences",
    metadata,
    Column("channel", String(10), nullable=False),
    Column("year", SmallInteger, nullable=False, comment="Two-digit year (Asia/Bangkok)."),
    Column("last_value", Integer, nullable=False),
    PrimaryKeyConstraint("channel", "year"),
)


# --- catalog: the single truth for prices (THB, exact) ------------------------------------------
products = Table(
    "products",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()),
    Column("kind", String(16), nullable=False),
    Column("name_th", Text, nullable=False),
    Column("name_en", Text, nullable=True),
    Column("description_th", Text, nullable=True),
    Column("description_en", Text, nullable=True),
    Column("category", Text, nullable=True),
    Column("price", Numeric(12, 2), nullable=False),
    Column("duration_minutes", Integer, nullable=True),
    Column("image_urls", JSONB, nullable=False, server_default="[]"),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(_one_of("kind", PRODUCT_KINDS), name="kind"),
    CheckConstraint("price >= 0", name="price"),
)

course_sessions = Table(
    "course_sessions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()),
    Column("product_id", UUID(as_uuid=True), ForeignKey("gateway.products.id"), nullable=False, index=True),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("capacity", Integer, nullable=False),
    # Taken by orders; one conditional UPDATE books seats, so no concurrency can oversell.
    Column("seats_taken", Integer, nullable=False, server_default="0"),
    CheckConstraint("capacity > 0", name="capacity"),
    CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats"),
    CheckConstraint("ends_at > starts_at", name="times"),
)

# --- orders ---------------------------------------------------------------------------------------
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
    CheckConstraint(_one_of("status", ORDER_STATUSES), name="status"),
    CheckConstraint("total >= 0", name="total"),
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
