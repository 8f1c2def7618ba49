"""actions: the scene a material is used for (用于) and follow-up reminders (跟进提醒)

Revision ID: 0018
Revises: 0017
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('material_scene',
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('scene', sa.String(length=16), nullable=False),
    sa.Column('set_by', sa.String(length=64), nullable=False),
    sa.Column('set_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['material_id'], ['material.id'], ),
    sa.PrimaryKeyConstraint('material_id')
    )
    op.create_index(op.f('ix_material_scene_scene'), 'material_scene', ['scene'], unique=False)
    op.create_table('follow_up_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('advisor', sa.String(length=64), nullable=False),
    sa.Column('external_userid', sa.String(length=64), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['external_userid'], ['external_contact.external_userid'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_follow_up_reminder_advisor', 'follow_up_reminder', ['advisor', 'status', 'due_at'],
                    unique=False)
    op.create_index('ix_follow_up_reminder_due', 'follow_up_reminder', ['status', 'sent_at', 'due_at'], unique=False)


def downgrade():
    op.drop_index('ix_follow_up_reminder_due', table_name='follow_up_reminder')
    op.drop_index('ix_follow_up_reminder_advisor', table_name='follow_up_reminder')
    op.drop_table('follow_up_reminder')
    op.drop_index(op.f('ix_material_scene_scene'), table_name='material_scene')
    op.drop_table('material_scene')
