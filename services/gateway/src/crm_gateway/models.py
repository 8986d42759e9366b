"""The gateway's own schema: staff logins, the customers, the catalog and the orders it owns."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
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
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

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
LIFECYCLE_STAGES = ("lead", "contacted", "qualified", "enrolled", "alumni", "lost")
CUSTOMER_STATES = ("active", "merged", "erased")
CONSENT_STATUSES = ("granted", "withdrawn")
PAYMENT_METHODS = ("transfer", "card", "cash", "promptpay")
PAYMENT_KINDS = ("payment", "refund")
ERASURE_SERVICES = ("gateway", "messenger", "ai", "cache-writer")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def customer_ref(*, index: bool = False) -> Column[str]:
    """`customer_id` of a row that belongs to a customer and goes when the customer row goes."""
    return Column(
        "customer_id",
        String(40),
        ForeignKey("gateway.customers.id", ondelete="CASCADE"),
        nullable=False,
        index=index,
    )


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
    Column("name", Text, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # The ETag of the staff admin API: grows by one with every change an admin makes.
    Column("version", Integer, nullable=False, server_default="1"),
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
    # --- the profile staff keep (issue 5) ---
    Column("name_th", Text, nullable=True),
    Column("name_latin", Text, nullable=True),
    Column("nickname", Text, nullable=True),
    Column("phone", Text, nullable=True, comment="E.164."),
    Column("email", Text, nullable=True, comment="Lowercased."),
    Column("tags", ARRAY(Text), nullable=False, server_default="{}"),
    Column("assigned_staff_id", UUID(as_uuid=True), ForeignKey("gateway.staff_users.id"), nullable=True),
    Column("consent_status", Text, nullable=True),
    Column("consent_at", DateTime(timezone=True), nullable=True),
    Column("consent_method", Text, nullable=True),
    # What an import recognised no field for, kept as it came.
    Column("extra", JSONB, nullable=False, server_default="{}"),
    # The ETag: grows by one with every change, so If-Match refuses a stale write.
    Column("version", Integer, nullable=False, server_default="1"),
    # active; merged (into `merged_into`, kept for an undo); erased (PDPA: only the id is left).
    Column("state", Text, nullable=False, server_default="active"),
    Column("merged_into", String(40), ForeignKey("gateway.customers.id"), nullable=True),
    # Lowercased names for partial search (a trigram index serves `LIKE '%...%'`, Thai included).
    Column(
        "search_names",
        Text,
        Computed(
            "lower(coalesce(display_name, '') || ' ' || coalesce(name_th, '') || ' '"
            " || coalesce(name_latin, '') || ' ' || coalesce(nickname, '') || ' '"
            " || coalesce(first_name, '') || ' ' || coalesce(last_name, ''))",
            persisted=True,
        ),
    ),
    CheckConstraint(_one_of("channel", CUSTOMER_CHANNELS), name="channel"),
    CheckConstraint(_one_of("lifecycle_stage", LIFECYCLE_STAGES), name="stage"),
    CheckConstraint(_one_of("state", CUSTOMER_STATES), name="state"),
    CheckConstraint(
        f"consent_status IS NULL OR {_one_of('consent_status', CONSENT_STATUSES)}", name="consent"
    ),
    CheckConstraint("(state = 'merged') = (merged_into IS NOT NULL)", name="merged"),
    # Keyset pagination, newest first (a btree scans backwards just as well).
    Index("ix_gateway_customers_created_at_id", "created_at", "id"),
    Index("ix_gateway_customers_phone", "phone"),
    Index("ix_gateway_customers_email", "email"),
    Index("ix_gateway_customers_tags", "tags", postgresql_using="gin"),
    Index(
        "ix_gateway_customers_search_names",
        "search_names",
        postgresql_using="gin",
        postgresql_ops={"search_names": "gin_trgm_ops"},
    ),
    Index("ix_gateway_customers_assigned", "assigned_staff_id"),
    Index("ix_gateway_customers_stage_created", "lifecycle_stage", "created_at"),
)

customer_stage_changes = Table(
    "customer_stage_changes",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    customer_ref(index=True),
    Column("from_stage", Text, nullable=True),
    Column("to_stage", Text, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column(
        "changed_by", UUID(as_uuid=True), nullable=True, comment="Null: the system (an event, an import)."
    ),
)

customer_notes = Table(
    "customer_notes",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()),
    customer_ref(index=True),
    Column("body", Text, nullable=False),
    Column("author_id", UUID(as_uuid=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# One chronological view per customer, written by the same transactions (and event handlers)
# that change what it shows. `detail` holds ids and amounts, never personal data.
customer_timeline = Table(
    "customer_timeline",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    customer_ref(),
    Column("kind", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("detail", JSONB, nullable=False, server_default="{}"),
    # The event or row it came from: one entry per source, however often it is delivered.
    Column("source_id", Text, nullable=True, unique=True),
    Index("ix_gateway_customer_timeline_customer_at", "customer_id", "occurred_at", "id"),
)

# Who changed what, when; before/after of changed fields with personal data masked. A merge
# also keeps `undo` (the state to restore, unmasked) until an admin undoes it or the customer
# is erased.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor_id", UUID(as_uuid=True), nullable=True, comment="Null: the system."),
    Column("actor_role", Text, nullable=True),
    Column("action", Text, nullable=False, comment="e.g. customer.update, order.pay, staff.deactivate"),
    Column("entity_type", Text, nullable=False),
    Column("entity_id", Text, nullable=False),
    Column("changes", JSONB, nullable=False, server_default="{}"),
    Column("undo", JSONB, nullable=True),
    Column("undone_at", DateTime(timezone=True), nullable=True),
    Column("undone_by", UUID(as_uuid=True), nullable=True),
    Index("ix_gateway_audit_log_entity", "entity_type", "entity_id", "at"),
    Index("ix_gateway_audit_log_actor", "actor_id", "at"),
    Index("ix_gateway_audit_log_action", "action", "at"),
    Index("ix_gateway_audit_log_at", "at"),
)

# --- staff sessions: short access tokens name a session; refresh tokens rotate within it -------
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()),
    Column(
        "staff_id",
        UUID(as_uuid=True),
        ForeignKey("gateway.staff_users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("revoked_reason", Text, nullable=True),
)

staff_refresh_tokens = Table(
    "staff_refresh_tokens",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column(
        "session_id",
        UUID(as_uuid=True),
        ForeignKey("gateway.staff_sessions.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("token_hash", Text, nullable=False, unique=True, comment="SHA-256 of the token; never the token."),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column(
        "used_at",
        DateTime(timezone=True),
        nullable=True,
        comment="Rotated; a second use revokes the session.",
    ),
)

# Sign-in attempts per key (`account:<sha256 of the e-mail>` / `address:<sha256 of the IP>`) in a
# fixed window, shared by replicas; a success gives its attempt back. Hashed: no e-mail or IP here.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", Text, primary_key=True),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("window_started_at", DateTime(timezone=True), nullable=False),
)

# --- PDPA erasure requests and each service's report ---------------------------------------------
erasure_requests = Table(
    "erasure_requests",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()),
    Column("customer_id", String(40), ForeignKey("gateway.customers.id"), nullable=False, index=True),
    Column("requested_by", UUID(as_uuid=True), nullable=True),
    Column("requested_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("completed_at", DateTime(timezone=True), nullable=True),
)

erasure_steps = Table(
    "erasure_steps",
    metadata,
    Column(
        "request_id",
        UUID(as_uuid=True),
        ForeignKey("gateway.erasure_requests.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("service", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("erased", JSONB, nullable=False, server_default="{}"),
    Column("detail", Text, nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    PrimaryKeyConstraint("request_id", "service"),
    CheckConstraint("status IN ('pending', 'completed', 'failed')", name="status"),
)

customer_identities = Table(
    "customer_identities",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    customer_ref(index=True),
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
    Column("version", Integer, nullable=False, server_default="1"),
    # The old system's product id: what `python -m crm_gateway.legacy` upserts by.
    Column("legacy_id", Text, nullable=True, unique=True),
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

# A package bundles courses at the package's own price.
package_items = Table(
    "package_items",
    metadata,
    Column(
        "package_id",
        UUID(as_uuid=True),
        ForeignKey("gateway.products.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("course_id", UUID(as_uuid=True), ForeignKey("gateway.products.id"), nullable=False),
    Column("quantity", Integer, nullable=False, server_default="1"),
    PrimaryKeyConstraint("package_id", "course_id"),
    CheckConstraint("quantity > 0", name="quantity"),
    CheckConstraint("package_id <> course_id", name="not_itself"),
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
    # Payments received minus refunds (THB, exact), kept with the status in one row.
    Column("paid", Numeric(12, 2), nullable=False, server_default="0"),
    Column("version", Integer, nullable=False, server_default="1"),
    CheckConstraint(_one_of("status", ORDER_STATUSES), name="status"),
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
    CheckConstraint(_one_of("kind", PAYMENT_KINDS), name="kind"),
    CheckConstraint(_one_of("method", PAYMENT_METHODS), name="method"),
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
