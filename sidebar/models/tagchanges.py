"""Tag history of a client: each tag an advisor added or removed from the sidebar. No I/O."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .core import utcnow

TAG_ACTIONS = ("add", "remove")


class TagChange(db.Model):
    """One tag added to or removed from a client by an advisor (the local copy keeps only the current tags)."""

    __table_args__ = (Index("ix_tag_change_contact", "external_userid", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_userid: Mapped[str] = mapped_column(ForeignKey("external_contact.external_userid"))
    userid: Mapped[str] = mapped_column(String(64))  # the advisor who changed it
    action: Mapped[str] = mapped_column(String(8))  # add, remove
    tag_id: Mapped[str] = mapped_column(String(64))
    tag_name: Mapped[str] = mapped_column(String(64))  # as it was named then: a tag renamed later keeps its history
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
