"""analytics customers and their PSID digests

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 00:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('customers',
    sa.Column('customer_id', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_ad_id', sa.String(length=32), nullable=True),
    sa.Column('first_touch_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('merged_into', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customers')),
    schema='cache_writer'
    )
    op.create_table('customer_psids',
    sa.Column('psid_digest', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('psid_digest', 'customer_id', name=op.f('pk_customer_psids')),
    schema='cache_writer'
    )
    op.create_index(op.f('ix_cache_writer_customer_psids_customer_id'), 'customer_psids', ['customer_id'], unique=False, schema='cache_writer')


def downgrade() -> None:
    op.drop_index(op.f('ix_cache_writer_customer_psids_customer_id'), table_name='customer_psids', schema='cache_writer')
    op.drop_table('customer_psids', schema='cache_writer')
    op.drop_table('customers', schema='cache_writer')
