"""analytics order lines and product days (revenue by product)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 03:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('order_lines',
    sa.Column('order_id', sa.UUID(), nullable=False),
    sa.Column('line_no', sa.SmallInteger(), nullable=False),
    sa.Column('product_id', sa.UUID(), nullable=False),
    sa.Column('product_name', sa.Text(), nullable=False),
    sa.Column('product_kind', sa.String(length=16), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('line_total', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('ordered_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('order_id', 'line_no', name=op.f('pk_order_lines')),
    schema='cache_writer'
    )
    op.create_table('product_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('product_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=True),
    sa.Column('named_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revenue', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('refunds', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('paid_orders', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'product_id', name=op.f('pk_product_days')),
    schema='cache_writer'
    )


def downgrade() -> None:
    op.drop_table('product_days', schema='cache_writer')
    op.drop_table('order_lines', schema='cache_writer')
