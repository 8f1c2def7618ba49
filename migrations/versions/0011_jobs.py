"""jobs: periodic jobs' claims and runs, live workers, extra exchange closures; on PostgreSQL the queue's tables

Revision ID: 0011
Revises: 0010

The queue's tables are Huey 3.5.4's own DDL for its PostgreSQL storage, written out here so that this
migration means the same thing whatever Huey is installed later (tests/test_jobs.py compares them with
the installed Huey's). They are made here, by `db upgrade`, rather than by the storage when a process
first uses the queue: many gunicorn workers starting at once would race PostgreSQL's CREATE TABLE IF
NOT EXISTS (it can fail on a duplicate type), and the app's role then needs no CREATE right at run time.
A SQLite database keeps its queue in a file of its own, which Huey creates; Redis needs no tables.
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

QUEUE_DDL = [
    'create table if not exists huey_kv (queue text not null, key text not null, value bytea not null, '
    'primary key(queue, key))',
    'create table if not exists huey_schedule (id bigserial primary key, queue text not null, '
    'data bytea not null, timestamp double precision not null)',
    'create index if not exists huey_schedule_queue_timestamp on huey_schedule (queue, timestamp)',
    'create table if not exists huey_task (id bigserial primary key, queue text not null, '
    'data bytea not null, priority double precision not null default 0.0)',
    'create index if not exists huey_task_queue_priority_id on huey_task (queue, priority desc, id)',
    'create table if not exists huey_counter (queue text not null, key text not null, '
    'value bigint not null default 0, primary key(queue, key))',
]
QUEUE_TABLES = ('huey_kv', 'huey_schedule', 'huey_task', 'huey_counter')


def upgrade():
    op.create_table('job_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=32), nullable=False),
    sa.Column('trigger', sa.String(length=8), nullable=False),
    sa.Column('tick', sa.DateTime(), nullable=True),
    sa.Column('host', sa.String(length=96), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('detail', sa.String(length=255), nullable=True),
    sa.Column('error', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.create_index('ix_job_run_job', ['job', 'started_at'], unique=False)
        batch_op.create_index('ix_job_run_status', ['status', 'started_at'], unique=False)

    op.create_table('job_state',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('last_tick', sa.DateTime(), nullable=True),
    sa.Column('holder', sa.String(length=96), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('job_worker',
    sa.Column('id', sa.String(length=96), nullable=False),
    sa.Column('host', sa.String(length=64), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('threads', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('trading_closure',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=100), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('day')
    )
    if op.get_bind().dialect.name == 'postgresql':
        for statement in QUEUE_DDL:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table in QUEUE_TABLES:
            op.execute(f'drop table if exists {table}')
    op.drop_table('trading_closure')
    op.drop_table('job_worker')
    op.drop_table('job_state')
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_index('ix_job_run_status')
        batch_op.drop_index('ix_job_run_job')

    op.drop_table('job_run')
