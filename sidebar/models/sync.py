"""Sync models: the callback inbox, the corp tag mirror, and the cursors of full sync and tag push."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .core import utcnow

INBOX_STATES = ("pending", "done", "failed", "ignored")


class CallbackInbox(db.Model):
    """One decrypted WeCom callback, stored before it is processed; the dedupe key makes a retry a no-op."""

    __table_args__ = (Index("ix_callback_inbox_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the decrypted XML
    event: Mapped[str] = mapped_column(String(64))
    change_type: Mapped[str | None] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(64))  # ExternalUserID, ChatId or tag Id
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    processed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(255))


class CorpTag(db.Model):
    """A corp tag (企业标签) as get_corp_tag_list last described it."""

    tag_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    group_id: Mapped[str] = mapped_column(String(64), index=True)
    group_name: Mapped[str] = mapped_column(String(64))
    sort_order: Mapped[int] = mapped_column(default=0)
    group_order: Mapped[int] = mapped_column(default=0)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncRun(db.Model):
    """One run of the full sync or the tag push, with the cursor a restart resumes from."""

    __table_args__ = (Index("ix_sync_run_kind", "kind", "finished_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # sync, push-tags
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    since: Mapped[datetime | None]
    phase: Mapped[str] = mapped_column(String(16), default="start")
    cursor: Mapped[dict] = mapped_column(JSON, default=dict)
    stats: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class SyncSeen(db.Model):
    """What a sync run found in WeCom (a follow id or a chat id): the rest is ended when it finishes."""

    run_id: Mapped[int] = mapped_column(ForeignKey("sync_run.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # follow, group
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
