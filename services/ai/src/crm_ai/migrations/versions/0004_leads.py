"""leads: lead scores and customer insights

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 11:52:53.126658
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('customer_insights',
    sa.Column('conversation_id', sa.UUID(), nullable=False),
    sa.Column('page_id', sa.String(length=64), nullable=False),
    sa.Column('psid', sa.String(length=64), nullable=False),
    sa.Column('intent', sa.Text(), nullable=True),
    sa.Column('interested_product_ids', postgresql.ARRAY(sa.UUID()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('preferred_schedule', sa.Text(), nullable=True),
    sa.Column('budget', sa.Text(), nullable=True),
    sa.Column('objections', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('next_best_action', sa.Text(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('model', sa.String(length=64), nullable=True),
    sa.Column('message_count', sa.Integer(), nullable=False),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_customer_insights')),
    schema='ai'
    )
    op.create_index(op.f('ix_ai_customer_insights_psid'), 'customer_insights', ['psid'], unique=False, schema='ai')
    op.create_table('lead_scores',
    sa.Column('page_id', sa.String(length=64), nullable=False),
    sa.Column('psid', sa.String(length=64), nullable=False),
    sa.Column('conversation_id', sa.UUID(), nullable=True),
    sa.Column('score', sa.SmallInteger(), nullable=False),
    sa.Column('temperature', sa.String(length=8), nullable=False),
    sa.Column('signals', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('product_ids', postgresql.ARRAY(sa.UUID()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('message_times', postgresql.ARRAY(sa.DateTime(timezone=True)), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('message_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_activity_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('quiet_days', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('insight_message_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('page_id', 'psid', name=op.f('pk_lead_scores')),
    schema='ai'
    )
    op.create_index(op.f('ix_ai_lead_scores_last_activity_at'), 'lead_scores', ['last_activity_at'], unique=False, schema='ai')


def downgrade() -> None:
    op.drop_index(op.f('ix_ai_lead_scores_last_activity_at'), table_name='lead_scores', schema='ai')
    op.drop_table('lead_scores', schema='ai')
    op.drop_index(op.f('ix_ai_customer_insights_psid'), table_name='customer_insights', schema='ai')
    op.drop_table('customer_insights', schema='ai')
