"""tag changes: the tags an advisor added or removed from the sidebar, for the client's timeline

Revision ID: 0020
Revises: 0019
"""
from alembic import op
import sqlalchemy as sa

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tag_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_userid', sa.String(length=64), nullable=False),
    sa.Column('userid', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('tag_id', sa.String(length=64), nullable=False),
    sa.Column('tag_name', sa.String(length=64), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['external_userid'], ['external_contact.external_userid'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('tag_change', schema=None) as batch_op:
        batch_op.create_index('ix_tag_change_contact', ['external_userid', 'changed_at'], unique=False)


def downgrade():
    with op.batch_alter_table('tag_change', schema=None) as batch_op:
        batch_op.drop_index('ix_tag_change_contact')
    op.drop_table('tag_change')
