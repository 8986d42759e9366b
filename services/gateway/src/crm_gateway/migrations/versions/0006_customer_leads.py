"""customers: the ai's latest lead score and insights

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-20 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONB = postgresql.JSONB(astext_type=sa.Text())


def upgrade() -> None:
    op.add_column("customers", sa.Column("lead_score", sa.SmallInteger(), nullable=True), schema="gateway")
    op.add_column("customers", sa.Column("lead_temperature", sa.Text(), nullable=True), schema="gateway")
    op.add_column(
        "customers",
        sa.Column("lead_reasons", JSONB, nullable=True, comment="[{signal, label, points}], biggest first."),
        schema="gateway",
    )
    op.add_column(
        "customers", sa.Column("lead_scored_at", sa.DateTime(timezone=True), nullable=True), schema="gateway"
    )
    op.add_column(
        "customers",
        sa.Column("insights", JSONB, nullable=True, comment="The latest customer.insights_updated data."),
        schema="gateway",
    )
    op.add_column(
        "customers", sa.Column("insights_at", sa.DateTime(timezone=True), nullable=True), schema="gateway"
    )
    op.create_check_constraint(
        op.f("ck_customers_lead_score"),
        "customers",
        "lead_score IS NULL OR lead_score BETWEEN 0 AND 100",
        schema="gateway",
    )
    op.create_check_constraint(
        op.f("ck_customers_lead_temperature"),
        "customers",
        "lead_temperature IS NULL OR lead_temperature IN ('hot', 'warm', 'cold')",
        schema="gateway",
    )
    op.create_index(
        "ix_gateway_customers_lead_score_id",
        "customers",
        [sa.text("coalesce(lead_score, -1)"), "id"],
        schema="gateway",
    )


def downgrade() -> None:
    op.drop_index("ix_gateway_customers_lead_score_id", table_name="customers", schema="gateway")
    op.drop_constraint(op.f("ck_customers_lead_temperature"), "customers", schema="gateway", type_="check")
    op.drop_constraint(op.f("ck_customers_lead_score"), "customers", schema="gateway", type_="check")
    for column in ("insights_at", "insights", "lead_scored_at", "lead_reasons", "lead_temperature", "lead_score"):
        op.drop_column("customers", column, schema="gateway")
