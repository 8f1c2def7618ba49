"""Material library models: materials and their versions, stored files, WeCom media, shares, opens.

No I/O here. A material's content lives in versions: a version is edited only while it is a draft,
is frozen once submitted, and the one `approved` version is what advisors share.
"""
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .core import utcnow

KINDS = ("text", "image", "link", "file", "video", "miniprogram")
KIND_LABELS = {"text": "话术", "image": "海报", "link": "文章", "file": "文件", "video": "视频",
               "miniprogram": "小程序"}
PRODUCT_LEVELS = ("R1", "R2", "R3", "R4", "R5")
VERSION_STATES = ("draft", "pending", "approved", "rejected", "superseded")
SHARE_RESULTS = ("sent", "cancelled", "failed")  # what the page may report for a prepared share
LIVE_INDEX_COLUMNS = ("status", "reviewed_at", "material_id", "category", "valid_from", "valid_until", "title",
                      "summary", "tags")
SEARCH_INDEX = "material_fts"  # SQLite FTS5 (trigram) table over versions; not a model, see below
QUEUE_TABLES = "huey_"  # the task queue's own tables (sidebar/jobs/queue.py); not models either


def in_schema(name, type_, parent_names):
    """Alembic include_name hook: the search indexes (SQLite's FTS5 tables, PostgreSQL's trigram
    indexes, both made by migrations) and the task queue's tables (Huey's, on PostgreSQL) are not models."""
    if type_ == "table":
        return not (name == SEARCH_INDEX or name.startswith(SEARCH_INDEX + "_") or name.startswith(QUEUE_TABLES))
    return not (type_ == "index" and name.endswith("_trgm"))


class StoredFile(db.Model):
    """Uploaded bytes, named by their SHA-256: one row (and one file) however often uploaded."""

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))  # decided from the bytes, never the upload
    extension: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Material(db.Model):
    """A material in the library; its content is in versions."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(String(64))

    versions: Mapped[list["MaterialVersion"]] = relationship(
        back_populates="material", order_by="MaterialVersion.number")

    @property
    def live(self):
        """The approved version advisors share, or None."""
        return next((v for v in self.versions if v.status == "approved"), None)

    @property
    def head(self):
        """The newest version (the one being edited or reviewed)."""
        return self.versions[-1] if self.versions else None


class MaterialVersion(db.Model):
    """One version of a material's content and its review."""

    # The library walks approved versions newest first and matches short words with LIKE on the text:
    # carrying that text, the index answers the walk without a read of each version's row.
    __table_args__ = (UniqueConstraint("material_id", "number"),
                      Index("ix_material_version_live", *LIVE_INDEX_COLUMNS))

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("material.id"))
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(12), default="draft")
    title: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(32), default="")
    tags: Mapped[str] = mapped_column(String(200), default="")  # comma-joined: searchable as text
    risk_level: Mapped[str | None] = mapped_column(String(2))  # R1…R5; None for general material
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]
    disclaimer: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(1024))
    file_sha: Mapped[str | None] = mapped_column(ForeignKey("stored_file.sha256"))
    file_name: Mapped[str | None] = mapped_column(String(128))
    cover_sha: Mapped[str | None] = mapped_column(ForeignKey("stored_file.sha256"))
    appid: Mapped[str | None] = mapped_column(String(32))
    page: Mapped[str | None] = mapped_column(String(256))
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None]
    review_comment: Mapped[str | None] = mapped_column(Text)

    material: Mapped[Material] = relationship(back_populates="versions")
    file: Mapped[StoredFile | None] = relationship(foreign_keys=[file_sha])
    cover: Mapped[StoredFile | None] = relationship(foreign_keys=[cover_sha])
    editor_rows: Mapped[list["VersionEditor"]] = relationship(viewonly=True)  # written by review._record_editor

    @property
    def tag_list(self):
        """The tags as a list."""
        return [t for t in (self.tags or "").split(",") if t]

    @property
    def editors(self):
        """userids of everyone who edited or uploaded into this version (`author` is only the last)."""
        return {row.userid for row in self.editor_rows}


class VersionEditor(db.Model):
    """Someone who put content into a version: none of them may review it (four eyes)."""

    __tablename__ = "material_version_editor"

    version_id: Mapped[int] = mapped_column(ForeignKey("material_version.id"), primary_key=True)
    userid: Mapped[str] = mapped_column(String(64), primary_key=True)


class WeComMedia(db.Model):
    """A media_id WeCom gave for a stored file; it lives 3 days."""

    __tablename__ = "wecom_media"

    sha256: Mapped[str] = mapped_column(ForeignKey("stored_file.sha256"), primary_key=True)
    type: Mapped[str] = mapped_column(String(8), primary_key=True)  # image, video, file
    media_id: Mapped[str] = mapped_column(String(256))
    uploaded_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class Share(db.Model):
    """One share attempt, permanent: prepared, then sent/cancelled/failed as reported, or blocked."""

    __table_args__ = (Index("ix_share_target", "target_type", "target_id", "created_at"),
                      Index("ix_share_material", "material_id", "status"),
                      Index("ix_share_advisor", "advisor", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str | None] = mapped_column(String(32), unique=True)  # the tracked link /r/<token>
    advisor: Mapped[str] = mapped_column(String(64))
    material_id: Mapped[int | None] = mapped_column(ForeignKey("material.id"))  # None: an SOP step's own text
    version_id: Mapped[int | None] = mapped_column(ForeignKey("material_version.id"))
    material_level: Mapped[str | None] = mapped_column(String(2))  # the level at that moment
    target_type: Mapped[str] = mapped_column(String(8))  # contact, group
    target_id: Mapped[str] = mapped_column(String(64))
    target_name: Mapped[str] = mapped_column(String(128), default="")  # as it was called then
    client_class: Mapped[str | None] = mapped_column(String(8))  # C1…C5, unknown; None: no client
    checks: Mapped[dict] = mapped_column(JSON, default=dict)  # the clients checked, the blockers
    status: Mapped[str] = mapped_column(String(12))  # prepared, sent, cancelled, failed, blocked
    reason: Mapped[str | None] = mapped_column(Text)
    message: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    result_at: Mapped[datetime | None]
    first_opened_at: Mapped[datetime | None]
    task_id: Mapped[int | None] = mapped_column(ForeignKey("sop_task.id"), index=True)  # sent for an SOP task

    version: Mapped[MaterialVersion] = relationship()


class LinkOpen(db.Model):
    """An open of a tracked link: when and on what kind of device; never the whole IP."""

    __table_args__ = (Index("ix_link_open_share", "share_id", "opened_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    share_id: Mapped[int] = mapped_column(ForeignKey("share.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    device: Mapped[str] = mapped_column(String(16))
    network: Mapped[str | None] = mapped_column(String(48))  # 203.0.113.0/24, 2001:db8:1::/48


class RateLimit(db.Model):
    """Hits of one key in the current fixed window, shared by every worker and host."""

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    window: Mapped[int] = mapped_column(BigInteger)  # the window's start, epoch seconds
    hits: Mapped[int]
