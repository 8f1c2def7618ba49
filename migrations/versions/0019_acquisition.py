"""acquisition: channels (contact-me and group join codes) and the arrivals they bring

Revision ID: 0019
Revises: 0018
"""
from alembic import op
import sqlalchemy as sa

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('channel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=30), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=30), nullable=False),
    sa.Column('config_id', sa.String(length=64), nullable=True),
    sa.Column('qr_code', sa.String(length=1024), nullable=True),
    sa.Column('qr_image', sa.LargeBinary(), nullable=True),
    sa.Column('qr_type', sa.String(length=32), nullable=True),
    sa.Column('userids', sa.JSON(), nullable=False),
    sa.Column('chat_ids', sa.JSON(), nullable=False),
    sa.Column('tag_ids', sa.JSON(), nullable=False),
    sa.Column('welcome_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.Column('retired_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['welcome_id'], ['material.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('state')
    )
    op.create_table('channel_arrival',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_key', sa.String(length=160), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=30), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('external_userid', sa.String(length=64), nullable=False),
    sa.Column('userid', sa.String(length=64), nullable=True),
    sa.Column('chat_id', sa.String(length=64), nullable=True),
    sa.Column('arrived_at', sa.DateTime(), nullable=False),
    sa.Column('first', sa.Boolean(), nullable=False),
    sa.Column('welcome', sa.String(length=8), nullable=False),
    sa.Column('welcome_error', sa.Text(), nullable=True),
    sa.Column('tagged', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channel.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_key')
    )
    with op.batch_alter_table('channel_arrival', schema=None) as batch_op:
        batch_op.create_index('ix_channel_arrival_contact', ['external_userid', 'arrived_at'], unique=False)
        batch_op.create_index('ix_channel_arrival_channel', ['channel_id', 'arrived_at'], unique=False)
        batch_op.create_index('ix_channel_arrival_chat', ['chat_id'], unique=False)


def downgrade():
    with op.batch_alter_table('channel_arrival', schema=None) as batch_op:
        batch_op.drop_index('ix_channel_arrival_chat')
        batch_op.drop_index('ix_channel_arrival_channel')
        batch_op.drop_index('ix_channel_arrival_contact')
    op.drop_table('channel_arrival')
    op.drop_table('channel')
