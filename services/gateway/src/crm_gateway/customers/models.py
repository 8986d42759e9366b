"""The customers: profile, channel identities, ids, stage history, notes and the timeline."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Computed,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
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

from crm_gateway.db import metadata, one_of

CUSTOMER_CHANNELS = ("FB", "LINE", "WEB", "WALKIN")

IDENTITY_CHANNELS = ("messenger", "line", "web", "walkin")

LIFECYCLE_STAGES = ("lead", "contacted", "qualified", "enrolled", "alumni", "lost")

CUSTOMER_STATES = ("active", "merged", "erased")

CONSENT_STATUSES = ("granted", "withdrawn")

LEAD_TEMPERATURES = ("hot", "warm", "cold")


def customer_ref(*, index: bool = False) -> Column[str]:
    """`customer_id` of a row that belongs to a customer and goes when the customer row goes."""
    return Column(
        "customer_id",
        String(40),
        ForeignKey("gateway.customers.id", ondelete="CASCADE"),
        nullable=False,
        index=index,
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
    # The ai's latest lead score (`lead.scored`) and insights (`customer.insights_updated`), kept
    # by `customers.leads`; not part of the profile (no version bump, no `customer.updated`).
    Column("lead_score", SmallInteger, nullable=True),
    Column("lead_temperature", Text, nullable=True),
    Column("lead_reasons", JSONB, nullable=True, comment="[{signal, label, points}], biggest first."),
    Column("lead_scored_at", DateTime(timezone=True), nullable=True),
    Column("insights", JSONB, nullable=True, comment="The latest customer.insights_updated data."),
    Column("insights_at", DateTime(timezone=True), nullable=True),
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
    CheckConstraint(one_of("channel", CUSTOMER_CHANNELS), name="channel"),
    CheckConstraint(one_of("lifecycle_stage", LIFECYCLE_STAGES), name="stage"),
    CheckConstraint(one_of("state", CUSTOMER_STATES), name="state"),
    CheckConstraint(
        f"consent_status IS NULL OR {one_of('consent_status', CONSENT_STATUSES)}", name="consent"
    ),
    CheckConstraint("(state = 'merged') = (merged_into IS NOT NULL)", name="merged"),
    CheckConstraint("lead_score IS NULL OR lead_score BETWEEN 0 AND 100", name="lead_score"),
    CheckConstraint(
        f"lead_temperature IS NULL OR {one_of('lead_temperature', LEAD_TEMPERATURES)}",
        name="lead_temperature",
    ),
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
    # Sorting by lead score in keyset pages: unscored customers (NULL) as -1, after every score.
    Index("ix_gateway_customers_lead_score_id", text("coalesce(lead_score, -1)"), "id"),
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
    CheckConstraint(one_of("channel", IDENTITY_CHANNELS), name="channel"),
)

customer_id_sequences = Table(
    "customer_id_sequences",
    metadata,
    Column("channel", String(10), nullable=False),
    Column("year", SmallInteger, nullable=False, comment="Two-digit year (Asia/Bangkok)."),
    Column("last_value", Integer, nullable=False),
    PrimaryKeyConstraint("channel", "year"),
)
