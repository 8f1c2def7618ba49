"""masssend: an SOP step sent as one enterprise mass send (客户群发); the tasks it carries

Revision ID: 0016
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sop_mass_send',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('advisor', sa.String(length=64), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('chat_kind', sa.String(length=8), nullable=False),
    sa.Column('msgid', sa.String(length=128), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.Column('targets', sa.Integer(), nullable=False),
    sa.Column('excluded', sa.JSON(), nullable=False),
    sa.Column('cursor', sa.String(length=256), nullable=True),
    sa.Column('checks', sa.Integer(), nullable=False),
    sa.Column('next_check_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('reminded', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['sop_plan.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sop_mass_send', schema=None) as batch_op:
        batch_op.create_index('ix_sop_mass_send_check', ['status', 'next_check_at'], unique=False)
    with op.batch_alter_table('sop_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mass_send_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_sop_task_mass_send_id', 'sop_mass_send', ['mass_send_id'], ['id'])


def downgrade():
    with op.batch_alter_table('sop_task', schema=None) as batch_op:
        batch_op.drop_constraint('fk_sop_task_mass_send_id', type_='foreignkey')
        batch_op.drop_column('mass_send_id')
    with op.batch_alter_table('sop_mass_send', schema=None) as batch_op:
        batch_op.drop_index('ix_sop_mass_send_check')
    op.drop_table('sop_mass_send')
