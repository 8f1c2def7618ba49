"""Background-work models: periodic jobs' claims and runs, the live workers, extra exchange closures. No I/O."""
from datetime import date, datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .core import utcnow

RUN_STATES = ("running", "done", "failed", "skipped")
TRIGGERS = ("schedule", "command", "queue")


class JobState(db.Model):
    """A periodic job's newest claimed tick and who runs it now: the lock that keeps its runs apart."""

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_tick: Mapped[datetime | None]  # the newest scheduled minute a worker claimed (naive UTC)
    holder: Mapped[str | None] = mapped_column(String(96))  # the worker or command running it
    lease_until: Mapped[datetime | None]  # renewed while it runs: a crashed holder frees it soon after


class JobRun(db.Model):
    """One run of a job (on schedule or by hand), or one failed attempt of a queued task."""

    __table_args__ = (Index("ix_job_run_job", "job", "started_at"),
                      Index("ix_job_run_status", "status", "started_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    trigger: Mapped[str] = mapped_column(String(8))  # schedule, command, queue
    tick: Mapped[datetime | None]  # the scheduled minute (naive UTC); None by hand or from the queue
    host: Mapped[str] = mapped_column(String(96))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(8), default="running")
    detail: Mapped[str | None] = mapped_column(String(255))  # what it did, or when it is retried
    error: Mapped[str | None] = mapped_column(String(255))  # WeCom's errcode and message, or the error's type


class JobWorker(db.Model):
    """A running worker process, as its last heartbeat described it."""

    id: Mapped[str] = mapped_column(String(96), primary_key=True)
    host: Mapped[str] = mapped_column(String(64))
    pid: Mapped[int]
    threads: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class TradingClosure(db.Model):
    """A weekday the exchanges are closed although the calendar says open (an unscheduled closure)."""

    day: Mapped[date] = mapped_column(primary_key=True)
    reason: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
