"""sop: plans and their reviewed versions, targets (with the holdout), tasks made once per step, target and slot;
the share a task sent

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sop_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('paused_at', sa.DateTime(), nullable=True),
    sa.Column('paused_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('sop_plan_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('reviewed_by', sa.String(length=64), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['sop_plan.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('plan_id', 'number')
    )
    op.create_table('sop_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('target_id', sa.String(length=64), nullable=False),
    sa.Column('advisor', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('holdout', sa.Boolean(), nullable=False),
    sa.Column('goal_at', sa.DateTime(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('end_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['sop_plan.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('plan_id', 'target_id')
    )
    with op.batch_alter_table('sop_target', schema=None) as batch_op:
        batch_op.create_index('ix_sop_target_open', ['plan_id', 'ended_at'], unique=False)

    op.create_table('sop_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('target_ref', sa.Integer(), nullable=False),
    sa.Column('chat_kind', sa.String(length=8), nullable=False),
    sa.Column('chat_id', sa.String(length=64), nullable=False),
    sa.Column('advisor', sa.String(length=64), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('deadline', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.Column('batch_from', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['sop_plan.id'], ),
    sa.ForeignKeyConstraint(['target_ref'], ['sop_target.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['sop_plan_version.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('plan_id', 'step', 'target_ref', 'due_at', name='uq_sop_task_slot')
    )
    with op.batch_alter_table('sop_task', schema=None) as batch_op:
        batch_op.create_index('ix_sop_task_advisor', ['advisor', 'status', 'due_at'], unique=False)
        batch_op.create_index('ix_sop_task_chat', ['chat_id', 'status'], unique=False)

    op.create_table('sop_reminder',
    sa.Column('advisor', sa.String(length=64), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('advisor', 'due_at')
    )
    with op.batch_alter_table('share', schema=None) as batch_op:
        batch_op.add_column(sa.Column('task_id', sa.Integer(), nullable=True))
        batch_op.alter_column('material_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('version_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f('ix_share_task_id'), ['task_id'], unique=False)
        batch_op.create_foreign_key('fk_share_task_id', 'sop_task', ['task_id'], ['id'])



def downgrade():
    op.execute("DELETE FROM share WHERE material_id IS NULL")  # SOP texts: no share before SOP
    with op.batch_alter_table('share', schema=None) as batch_op:
        batch_op.drop_constraint('fk_share_task_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_share_task_id'))
        batch_op.drop_column('task_id')
        batch_op.alter_column('version_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('material_id', existing_type=sa.Integer(), nullable=False)

    op.drop_table('sop_reminder')
    with op.batch_alter_table('sop_task', schema=None) as batch_op:
        batch_op.drop_index('ix_sop_task_chat')
        batch_op.drop_index('ix_sop_task_advisor')

    op.drop_table('sop_task')
    with op.batch_alter_table('sop_target', schema=None) as batch_op:
        batch_op.drop_index('ix_sop_target_open')

    op.drop_table('sop_target')
    op.drop_table('sop_plan_version')
    op.drop_table('sop_plan')
