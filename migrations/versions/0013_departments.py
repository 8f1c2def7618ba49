"""departments: WeCom's department tree; advisors' and group owners' daily WeCom service statistics

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('department',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('parentid', sa.Integer(), nullable=False),
    sa.Column('order', sa.Integer(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('advisor_activity',
    sa.Column('userid', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('chat_cnt', sa.Integer(), nullable=False),
    sa.Column('message_cnt', sa.Integer(), nullable=False),
    sa.Column('reply_percentage', sa.Float(), nullable=True),
    sa.Column('avg_reply_time', sa.Float(), nullable=True),
    sa.Column('negative_feedback_cnt', sa.Integer(), nullable=False),
    sa.Column('new_apply_cnt', sa.Integer(), nullable=False),
    sa.Column('new_contact_cnt', sa.Integer(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('userid', 'day')
    )
    op.create_table('group_activity',
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('new_chat_cnt', sa.Integer(), nullable=False),
    sa.Column('chat_total', sa.Integer(), nullable=False),
    sa.Column('chat_has_msg', sa.Integer(), nullable=False),
    sa.Column('new_member_cnt', sa.Integer(), nullable=False),
    sa.Column('member_total', sa.Integer(), nullable=False),
    sa.Column('member_has_msg', sa.Integer(), nullable=False),
    sa.Column('msg_total', sa.Integer(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('owner', 'day')
    )


def downgrade():
    op.drop_table('group_activity')
    op.drop_table('advisor_activity')
    op.drop_table('department')
