"""manage: journey events (when each step became known) and the branch scorecard's indicators

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('journey_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'kind', 'day')
    )
    op.create_index('ix_journey_event_day', 'journey_event', ['day', 'kind'], unique=False)
    op.create_index(op.f('ix_journey_event_account_id'), 'journey_event', ['account_id'], unique=False)
    op.create_table('score_indicator',
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('target', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('weight', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )


def downgrade():
    op.drop_table('score_indicator')
    op.drop_index(op.f('ix_journey_event_account_id'), table_name='journey_event')
    op.drop_index('ix_journey_event_day', table_name='journey_event')
    op.drop_table('journey_event')
