"""SOP models: plans and their reviewed versions, the targets a plan reaches, the tasks of its steps. No I/O."""
from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .core import utcnow

PLAN_KINDS = ("group", "client")
VERSION_STATES = ("draft", "pending", "approved", "rejected", "superseded")
TASK_STATES = ("open", "done", "late", "skipped", "blocked", "expired", "cancelled", "failed")


class SopPlan(db.Model):
    """A plan operations wrote once: its versions carry the content compliance reviews."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))  # group, client
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paused_at: Mapped[datetime | None]
    paused_by: Mapped[str | None] = mapped_column(String(64))

    versions: Mapped[list["SopPlanVersion"]] = relationship(back_populates="plan", order_by="SopPlanVersion.number")

    @property
    def head(self):
        """The newest version (draft, pending, approved or rejected)."""
        return self.versions[-1]

    @property
    def live(self):
        """The approved version the tick follows, or None."""
        return next((v for v in self.versions if v.status == "approved"), None)


class SopPlanVersion(db.Model):
    """One version of a plan: audience, trigger, goal, steps and holdout, frozen once submitted."""

    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("sop_plan.id"))
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(12), default="draft")
    spec: Mapped[dict] = mapped_column(JSON)  # the plan file's fields but name and kind
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None]
    review_comment: Mapped[str | None] = mapped_column(Text)

    plan: Mapped[SopPlan] = relationship(back_populates="versions")


class SopTarget(db.Model):
    """A group or client on a plan, once: since when, for which advisor, held out or not, and when it left."""

    __table_args__ = (UniqueConstraint("plan_id", "target_id"),
                      Index("ix_sop_target_open", "plan_id", "ended_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("sop_plan.id"))
    kind: Mapped[str] = mapped_column(String(8))  # group, client
    target_id: Mapped[str] = mapped_column(String(64))  # chat_id or external_userid
    advisor: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]  # joined the plan / the trigger's moment (naive UTC)
    holdout: Mapped[bool] = mapped_column(default=False)
    goal_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))


class SopTask(db.Model):
    """A step due for a target at one slot: made once whatever ticks run, closed by the send result."""

    __table_args__ = (UniqueConstraint("plan_id", "step", "target_ref", "due_at", name="uq_sop_task_slot"),
                      Index("ix_sop_task_advisor", "advisor", "status", "due_at"),
                      Index("ix_sop_task_chat", "chat_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("sop_plan.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("sop_plan_version.id"))
    step: Mapped[int]  # index in the version's steps
    target_ref: Mapped[int] = mapped_column(ForeignKey("sop_target.id"))
    chat_kind: Mapped[str] = mapped_column(String(8))  # group, contact
    chat_id: Mapped[str] = mapped_column(String(64))
    advisor: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime]  # the slot (naive UTC)
    deadline: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="open")
    reason: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None]
    batch_from: Mapped[int | None]  # the first share of the latest preparation: all from it on must be sent
    mass_send_id: Mapped[int | None] = mapped_column(ForeignKey("sop_mass_send.id"))  # going as a 客户群发
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    plan: Mapped[SopPlan] = relationship()
    version: Mapped[SopPlanVersion] = relationship()
    target: Mapped[SopTarget] = relationship()


class SopReminder(db.Model):
    """A reminder claimed for an advisor's slot: the app message goes once, whatever ticks ran."""

    advisor: Mapped[str] = mapped_column(String(64), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
