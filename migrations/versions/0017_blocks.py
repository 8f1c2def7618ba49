"""blocks: qualified groups (合格投资者群), marked by compliance and lifted by a join without a matching class

Revision ID: 0017
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('qualified_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.String(length=64), nullable=False),
    sa.Column('level', sa.String(length=2), nullable=False),
    sa.Column('members', sa.JSON(), nullable=False),
    sa.Column('checks', sa.JSON(), nullable=False),
    sa.Column('marked_by', sa.String(length=64), nullable=False),
    sa.Column('marked_at', sa.DateTime(), nullable=False),
    sa.Column('lifted_at', sa.DateTime(), nullable=True),
    sa.Column('lifted_by', sa.String(length=64), nullable=True),
    sa.Column('lift_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['chat_id'], ['group_chat.chat_id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('qualified_group', schema=None) as batch_op:
        batch_op.create_index('ix_qualified_group_chat', ['chat_id', 'lifted_at'], unique=False)


def downgrade():
    with op.batch_alter_table('qualified_group', schema=None) as batch_op:
        batch_op.drop_index('ix_qualified_group_chat')
    op.drop_table('qualified_group')
