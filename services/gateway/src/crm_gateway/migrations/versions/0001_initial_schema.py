"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 00:45:15.401392
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_id_sequences",
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False, comment="Two-digit year (Asia/Bangkok)."),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "year", name=op.f("pk_customer_id_sequences")),
        schema="gateway",
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("lifecycle_stage", sa.Text(), server_default="lead", nullable=False),
        sa.Column("first_touch", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("latest_touch", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("channel IN ('FB', 'LINE', 'WEB', 'WALKIN')", name=op.f("ck_customers_channel")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        schema="gateway",
    )
    op.create_index(
        "ix_gateway_customers_created_at_id",
        "customers",
        ["created_at", "id"],
        unique=False,
        schema="gateway",
    )
    op.create_table(
        "inbox",
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "consumer", name=op.f("pk_inbox")),
        schema="gateway",
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
        schema="gateway",
    )
    op.create_table(
        "staff_users",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'manager', 'marketer', 'agent', 'viewer')", name=op.f("ck_staff_users_role")
        ),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_staff_users_email_lowercase")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_users_email")),
        schema="gateway",
    )
    op.create_table(
        "customer_identities",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("page_id", sa.Text(), nullable=True),
        sa.Column("external_id", sa.Text(), nullable=False, comment="PSID for Messenger."),
        sa.CheckConstraint(
            "channel IN ('messenger', 'line', 'web', 'walkin')", name=op.f("ck_customer_identities_channel")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["gateway.customers.id"],
            name=op.f("fk_customer_identities_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_identities")),
        sa.UniqueConstraint(
            "channel",
            "page_id",
            "external_id",
            name=op.f("uq_customer_identities_channel_page_id_external_id"),
            postgresql_nulls_not_distinct=True,
        ),
        schema="gateway",
    )
    op.create_index(
        op.f("ix_gateway_customer_identities_customer_id"),
        "customer_identities",
        ["customer_id"],
        unique=False,
        schema="gateway",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_gateway_customer_identities_customer_id"), table_name="customer_identities", schema="gateway"
    )
    op.drop_table("customer_identities", schema="gateway")
    op.drop_table("staff_users", schema="gateway")
    op.drop_table("outbox", schema="gateway")
    op.drop_table("inbox", schema="gateway")
    op.drop_index("ix_gateway_customers_created_at_id", table_name="customers", schema="gateway")
    op.drop_table("customers", schema="gateway")
    op.drop_table("customer_id_sequences", schema="gateway")
