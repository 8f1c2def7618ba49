"""Daily group snapshots: each group's figures once a day, the history behind the conversion section.

`flask --app wsgi snapshot` records today's figures of every known group (the worker runs it daily
at 23:55 China time); the profile import records them for the groups whose clients it touched.
"""
import click
from flask.cli import with_appcontext
from sqlalchemy import insert, or_, select, update

from ..database import upsert_retrying
from ..extensions import db
from ..models import ClientProfile, GroupChat, GroupMember, GroupSnapshot, china_today, utcnow
from ..sync.profiles import profiles_imported
from .group import compositions

BATCH = 200  # groups per composition query: IN lists stay small, memory stays bounded
FIGURES = ("members", "staff", "externals", "clients", "opened", "funded", "client_assets")


def record_snapshots(today=None, chat_ids=None):
    """Record today's figures of the given groups (default: every live group); re-running replaces them."""
    today = today or china_today()
    if chat_ids is None:
        chat_ids = db.session.scalars(select(GroupChat.chat_id).where(GroupChat.dismissed_at.is_(None))
                                      .order_by(GroupChat.chat_id)).all()
    chat_ids = sorted(set(chat_ids))
    for start in range(0, len(chat_ids), BATCH):
        found = compositions(chat_ids[start:start + BATCH], today)
        store_snapshots([{"chat_id": chat_id, "day": today, **{name: getattr(figures, name) for name in FIGURES}}
                         for chat_id, figures in found.items()])
    return len(chat_ids)


@profiles_imported.connect
def _after_import(account_ids, today=None):
    """An import stored these accounts: their groups' figures follow at once; how many groups."""
    return record_for_accounts(account_ids, today)


def record_for_accounts(account_ids, today=None):
    """Record today's figures of the live groups that have one of these accounts' clients as a member."""
    account_ids = sorted({a for a in account_ids if isinstance(a, str)})
    chat_ids = set()
    for start in range(0, len(account_ids), BATCH):
        accounts = account_ids[start:start + BATCH]
        linked = select(ClientProfile.external_userid).where(ClientProfile.account_id.in_(accounts))
        unionids = select(ClientProfile.unionid).where(ClientProfile.account_id.in_(accounts),
                                                       ClientProfile.unionid.is_not(None))
        chat_ids.update(db.session.scalars(select(GroupMember.chat_id).distinct().join(GroupChat).where(
            GroupChat.dismissed_at.is_(None), GroupMember.type == 2, GroupMember.left_at.is_(None),
            or_(GroupMember.member_id.in_(linked), GroupMember.unionid.in_(unionids)))))
    return record_snapshots(today, chat_ids) if chat_ids else 0


def store_snapshots(rows):
    """Insert or replace snapshot rows (one per group and day) in one transaction."""
    if not rows:
        return
    upsert_retrying(_upsert, rows)  # a concurrent recorder may insert the same day first


def _upsert(rows):
    """Update the (chat_id, day) rows that exist, insert the others."""
    now = utcnow()
    rows = [{**row, "recorded_at": now} for row in rows]
    keys = {(row["chat_id"], row["day"]) for row in rows}
    existing = set(db.session.execute(select(GroupSnapshot.chat_id, GroupSnapshot.day).where(
        GroupSnapshot.chat_id.in_({chat_id for chat_id, _ in keys}),
        GroupSnapshot.day.in_({day for _, day in keys}))).tuples())
    new = [row for row in rows if (row["chat_id"], row["day"]) not in existing]
    changed = [row for row in rows if (row["chat_id"], row["day"]) in existing]
    if new:
        db.session.execute(insert(GroupSnapshot), new)
    if changed:
        db.session.execute(update(GroupSnapshot), changed)


def backfill(history):
    """Store a history of snapshots (the demo's), then today's figures of the groups known locally."""
    for start in range(0, len(history), 1000):
        store_snapshots(history[start:start + 1000])
    return record_snapshots()


@click.command("snapshot")
@with_appcontext
def snapshot_command():
    """Record today's figures of every known group (the worker does it daily at 23:55 China time)."""
    today = china_today()
    count = record_snapshots(today)
    click.echo(f"recorded {count} group snapshots for {today.isoformat()}")
