"""sync: callback inbox, corp tags, sync runs and what a run has seen

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('callback_inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=64), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('change_type', sa.String(length=64), nullable=True),
    sa.Column('target', sa.String(length=64), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('processed_at', sa.DateTime(), nullable=True),
    sa.Column('error', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key')
    )
    with op.batch_alter_table('callback_inbox', schema=None) as batch_op:
        batch_op.create_index('ix_callback_inbox_status', ['status', 'id'], unique=False)

    op.create_table('corp_tag',
    sa.Column('tag_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('group_name', sa.String(length=64), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('group_order', sa.Integer(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('tag_id')
    )
    with op.batch_alter_table('corp_tag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_corp_tag_group_id'), ['group_id'], unique=False)

    op.create_table('sync_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('since', sa.DateTime(), nullable=True),
    sa.Column('phase', sa.String(length=16), nullable=False),
    sa.Column('cursor', sa.JSON(), nullable=False),
    sa.Column('stats', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.create_index('ix_sync_run_kind', ['kind', 'finished_at'], unique=False)

    op.create_table('sync_seen',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['sync_run.id'], ),
    sa.PrimaryKeyConstraint('run_id', 'kind', 'key')
    )


def downgrade():
    op.drop_table('sync_seen')
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_run_kind')
    op.drop_table('sync_run')
    with op.batch_alter_table('corp_tag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_corp_tag_group_id'))
    op.drop_table('corp_tag')
    with op.batch_alter_table('callback_inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_callback_inbox_status')
    op.drop_table('callback_inbox')
