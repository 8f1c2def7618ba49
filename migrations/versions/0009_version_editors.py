"""version editors: everyone who edited or uploaded into a material version, none of whom may review it

Revision ID: 0009
Revises: 0008

Until now a version remembered only its last author, so a reviewer who had edited a colleague's
draft could approve it once the colleague saved again. Existing versions start with their author.
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('material_version_editor',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('userid', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['material_version.id'], ),
    sa.PrimaryKeyConstraint('version_id', 'userid')
    )
    op.execute("INSERT INTO material_version_editor (version_id, userid) SELECT id, author FROM material_version")


def downgrade():
    op.drop_table('material_version_editor')
