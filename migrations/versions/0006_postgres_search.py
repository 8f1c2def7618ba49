"""search on PostgreSQL: pg_trgm indexes over material versions' title, summary and tags

Revision ID: 0006
Revises: 0005

SQLite has its FTS5 trigram table (0004); on PostgreSQL, trigram GIN indexes let the same ILIKE
conditions (sidebar/materials/search.py) use an index for words of three characters or more.
pg_trgm is a trusted extension: the database's owner may create it.
"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

COLUMNS = ("title", "summary", "tags")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        op.execute(f"CREATE INDEX ix_material_version_{column}_trgm ON material_version "
                   f"USING gin ({column} gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.execute(f"DROP INDEX ix_material_version_{column}_trgm")
