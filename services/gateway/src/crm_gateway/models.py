"""The gateway's own schema: staff logins, and the customers it owns."""

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
