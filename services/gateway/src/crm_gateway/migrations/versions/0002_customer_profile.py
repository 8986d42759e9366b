"""customer profile from Messenger

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable without defaults: a metadata-only change, no table rewrite.
    op.add_column("customers", sa.Column("first_name", sa.Text(), nullable=True), schema="gateway")
    op.add_column("customers", sa.Column("last_name", sa.Text(), nullable=True), schema="gateway")
    op.add_column("customers", sa.Column("profile_pic", sa.Text(), nullable=True), schema="gateway")
    op.add_column(
        "customers",
        sa.Column(
            "profile_fetched_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="When the stored profile was fetched; an older one arriving later is ignored.",
        ),
        schema="gateway",
    )


def downgrade() -> None:
    op.drop_column("customers", "profile_fetched_at", schema="gateway")
    op.drop_column("customers", "profile_pic", schema="gateway")
    op.drop_column("customers", "last_name", schema="gateway")
    op.drop_column("customers", "first_name", schema="gateway")
