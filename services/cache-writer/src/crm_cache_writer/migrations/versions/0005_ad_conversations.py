"""conversations ads opened

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 03:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ad_conversations',
    sa.Column('conversation_id', sa.UUID(), nullable=False),
    sa.Column('ad_id', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('referred_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('conversation_id', 'ad_id', 'day', name=op.f('pk_ad_conversations')),
    schema='cache_writer'
    )
    op.create_index(op.f('ix_cache_writer_ad_conversations_day'), 'ad_conversations', ['day'], unique=False, schema='cache_writer')


def downgrade() -> None:
    op.drop_index(op.f('ix_cache_writer_ad_conversations_day'), table_name='ad_conversations', schema='cache_writer')
    op.drop_table('ad_conversations', schema='cache_writer')
