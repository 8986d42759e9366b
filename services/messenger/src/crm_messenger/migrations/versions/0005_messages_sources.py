"""messages.sources: the knowledge passages an AI reply was grounded on (shown to staff)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "messages",
        sa.Column("sources", postgresql.JSONB(), nullable=False, server_default="[]"),
        schema="messenger",
    )


def downgrade() -> None:
    op.drop_column("messages", "sources", schema="messenger")
