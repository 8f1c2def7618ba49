"""Qualified groups (合格投资者群): compliance's mark on a group, with its level. No I/O here."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .core import utcnow


class QualifiedGroup(db.Model):
    """One mark, permanent: set by compliance after checking the members, lifted by compliance or by a
    member who joined without a matching class. The live mark of a group is its row not lifted."""

    __table_args__ = (Index("ix_qualified_group_chat", "chat_id", "lifted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[str] = mapped_column(ForeignKey("group_chat.chat_id"))
    level: Mapped[str] = mapped_column(String(2))  # C1…C5: product material up to R<n> passes
    members: Mapped[list] = mapped_column(JSON, default=list)  # external member ids checked (and joined since)
    checks: Mapped[list] = mapped_column(JSON, default=list)  # what compliance saw: masked names and classes
    marked_by: Mapped[str] = mapped_column(String(64))
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)
    lifted_at: Mapped[datetime | None]
    lifted_by: Mapped[str | None] = mapped_column(String(64))  # None with lifted_at: lifted by a join
    lift_reason: Mapped[str | None] = mapped_column(Text)
