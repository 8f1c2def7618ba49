"""categories: the library's categories as rows the content team manages, seeded with the fixed six

Revision ID: 0015
Revises: 0014
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

# The categories that were fixed in code (sidebar/materials/forms.py) until this revision.
SEED = ("产品推介", "市场观点", "投资者教育", "开户引导", "活动海报", "服务话术")


def upgrade():
    table = op.create_table('material_category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.bulk_insert(table, [{'name': name, 'position': index + 1, 'created_at': now}
                           for index, name in enumerate(SEED)])
    # any other name a version carries (none should) is kept as a retired category: its rows stay valid
    others = op.get_bind().execute(sa.text(
        "SELECT DISTINCT category FROM material_version WHERE category <> ''")).scalars()
    others = sorted(set(others) - set(SEED))
    op.bulk_insert(table, [{'name': name[:32], 'position': len(SEED) + index + 1, 'created_at': now,
                            'retired_at': now} for index, name in enumerate(others)])


def downgrade():
    op.drop_table('material_category')
