"""server-side sessions (logout ends them) and the ids WeCom lately did not know

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staff_session',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('userid', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_session_started_at'), ['started_at'], unique=False)

    op.create_table('wecom_miss',
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'object_id')
    )
    with op.batch_alter_table('wecom_miss', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wecom_miss_checked_at'), ['checked_at'], unique=False)


def downgrade():
    with op.batch_alter_table('wecom_miss', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wecom_miss_checked_at'))
    op.drop_table('wecom_miss')
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_session_started_at'))
    op.drop_table('staff_session')
