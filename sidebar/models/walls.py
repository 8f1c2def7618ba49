"""A branch's TV (大屏): paired once through a link, then showing that branch's wall only. No I/O here."""
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .core import utcnow


class WallScreen(db.Model):
    """A TV a manager set up for a department of their tree. Only SHA-256 digests of its secrets are kept:
    the pairing link's (used once, then cleared) and the TV's cookie's; revoking ends both."""

    __tablename__ = "wall_screen"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int]
    name: Mapped[str] = mapped_column(String(64))
    link_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    link_expires_at: Mapped[datetime | None]
    device_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paired_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    views: Mapped[int] = mapped_column(default=0)  # pages and refreshes the TV was shown
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None]
