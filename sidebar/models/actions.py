"""Next-step models: the scene a material serves (用于) and the advisors' follow-up reminders. No I/O."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .core import utcnow

# The situations a next step answers; the content team picks the material for each in the console.
SCENES = {"open_account": "开户（未开户客户）", "applying": "开户中引导", "funding": "入金引导",
          "win_back": "沉睡唤醒", "reassess": "风险测评到期", "welcome": "新客欢迎"}
REMINDER_STATES = ("open", "done")


class MaterialScene(db.Model):
    """The one situation a material is used for (用于), set by the content team; not part of its review."""

    material_id: Mapped[int] = mapped_column(ForeignKey("material.id"), primary_key=True)
    scene: Mapped[str] = mapped_column(String(16), index=True)
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)


class FollowUpReminder(db.Model):
    """跟进提醒: an advisor's note to self about a client, due at a moment (naive UTC)."""

    __table_args__ = (Index("ix_follow_up_reminder_due", "status", "sent_at", "due_at"),
                      Index("ix_follow_up_reminder_advisor", "advisor", "status", "due_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    advisor: Mapped[str] = mapped_column(String(64))
    external_userid: Mapped[str] = mapped_column(ForeignKey("external_contact.external_userid"))
    due_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(8), default="open")  # open, done
    sent_at: Mapped[datetime | None]  # the app message was claimed for sending; cleared when moved
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
