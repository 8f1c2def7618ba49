"""An SOP step sent as one enterprise mass send (客户群发) for many targets. No I/O."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .core import utcnow
from .sop import SopPlan

# waiting: made in WeCom, the advisor has not confirmed it; sent: confirmed, results being read;
# done: every result read; unconfirmed: never confirmed in time; cancelled; refused: WeCom refused it
MASS_STATES = ("waiting", "sent", "done", "unconfirmed", "cancelled", "refused")


class SopMassSend(db.Model):
    """One mass send of a plan step by an advisor: its msgid, the targets left out and why, where reading stands."""

    __table_args__ = (Index("ix_sop_mass_send_check", "status", "next_check_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    advisor: Mapped[str] = mapped_column(String(64))
    plan_id: Mapped[int] = mapped_column(ForeignKey("sop_plan.id"))
    step: Mapped[int]
    chat_kind: Mapped[str] = mapped_column(String(8))  # contact, group
    msgid: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(12), default="waiting")
    text: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    targets: Mapped[int] = mapped_column(default=0)
    excluded: Mapped[list] = mapped_column(JSON, default=list)  # [{"chat_id", "reason"}]
    cursor: Mapped[str | None] = mapped_column(String(256))  # the results page to read next (resumable)
    checks: Mapped[int] = mapped_column(default=0)
    next_check_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    reminded: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    plan: Mapped[SopPlan] = relationship()
