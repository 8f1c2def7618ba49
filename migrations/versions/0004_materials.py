"""materials: versions, stored files, WeCom media, shares, link opens, rate limits, search index

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# SQLite's FTS5 with the trigram tokenizer: substring search over Chinese text, indexed.
# Rows are written by sidebar/materials/search.py; other databases search without it.
SEARCH_INDEX = "CREATE VIRTUAL TABLE material_fts USING fts5(title, summary, tags, tokenize='trigram')"


def upgrade():
    op.create_table('material',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('withdrawn_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('rate_limit',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('window', sa.BigInteger(), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('stored_file',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('extension', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('material_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('title', sa.String(length=64), nullable=False),
    sa.Column('summary', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('tags', sa.String(length=200), nullable=False),
    sa.Column('risk_level', sa.String(length=2), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('disclaimer', sa.String(length=200), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('url', sa.String(length=1024), nullable=True),
    sa.Column('file_sha', sa.String(length=64), nullable=True),
    sa.Column('file_name', sa.String(length=128), nullable=True),
    sa.Column('cover_sha', sa.String(length=64), nullable=True),
    sa.Column('appid', sa.String(length=32), nullable=True),
    sa.Column('page', sa.String(length=256), nullable=True),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('reviewed_by', sa.String(length=64), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['cover_sha'], ['stored_file.sha256'], ),
    sa.ForeignKeyConstraint(['file_sha'], ['stored_file.sha256'], ),
    sa.ForeignKeyConstraint(['material_id'], ['material.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('material_id', 'number')
    )
    with op.batch_alter_table('material_version', schema=None) as batch_op:
        batch_op.create_index('ix_material_version_live', ['status', 'reviewed_at'], unique=False)

    op.create_table('wecom_media',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=8), nullable=False),
    sa.Column('media_id', sa.String(length=256), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['sha256'], ['stored_file.sha256'], ),
    sa.PrimaryKeyConstraint('sha256', 'type')
    )
    op.create_table('share',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=True),
    sa.Column('advisor', sa.String(length=64), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('material_level', sa.String(length=2), nullable=True),
    sa.Column('target_type', sa.String(length=8), nullable=False),
    sa.Column('target_id', sa.String(length=64), nullable=False),
    sa.Column('target_name', sa.String(length=128), nullable=False),
    sa.Column('client_class', sa.String(length=8), nullable=True),
    sa.Column('checks', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('message', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('result_at', sa.DateTime(), nullable=True),
    sa.Column('first_opened_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['material_id'], ['material.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['material_version.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token')
    )
    with op.batch_alter_table('share', schema=None) as batch_op:
        batch_op.create_index('ix_share_advisor', ['advisor', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_share_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_share_material', ['material_id', 'status'], unique=False)
        batch_op.create_index('ix_share_target', ['target_type', 'target_id', 'created_at'], unique=False)

    op.create_table('link_open',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('share_id', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('device', sa.String(length=16), nullable=False),
    sa.Column('network', sa.String(length=48), nullable=True),
    sa.ForeignKeyConstraint(['share_id'], ['share.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('link_open', schema=None) as batch_op:
        batch_op.create_index('ix_link_open_share', ['share_id', 'opened_at'], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        op.execute(SEARCH_INDEX)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS material_fts")
    with op.batch_alter_table('link_open', schema=None) as batch_op:
        batch_op.drop_index('ix_link_open_share')

    op.drop_table('link_open')
    with op.batch_alter_table('share', schema=None) as batch_op:
        batch_op.drop_index('ix_share_target')
        batch_op.drop_index('ix_share_material')
        batch_op.drop_index(batch_op.f('ix_share_created_at'))
        batch_op.drop_index('ix_share_advisor')

    op.drop_table('share')
    op.drop_table('wecom_media')
    with op.batch_alter_table('material_version', schema=None) as batch_op:
        batch_op.drop_index('ix_material_version_live')

    op.drop_table('material_version')
    op.drop_table('stored_file')
    op.drop_table('rate_limit')
    op.drop_table('material')
