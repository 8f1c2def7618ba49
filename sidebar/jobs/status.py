"""What /console/jobs shows: each periodic job's last and next run, recent failures, the queue, the workers."""
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from ..extensions import db
from ..models import JobRun, JobState, TradingClosure, china_today, utcnow
from . import runs
from .schedule import as_utc, from_utc
from .tasks import JOBS, TASKS
from ..domain.calendar import calendar_covers, is_trading_day, next_trading_day

FAILURES_SHOWN = 50
LABELS = {**{name: job.label for name, job in JOBS.items()}, **{name: task.label for name, task in TASKS.items()}}


class InvalidClosure(Exception):
    """A closure the console cannot add; the message says why."""


@dataclass
class JobLine:
    """A periodic job as the console lists it."""

    name: str
    label: str
    schedule: str
    last: JobRun | None
    running_since: object
    next_at: object


@dataclass
class Overview:
    """Everything /console/jobs shows."""

    jobs: list
    failures: list
    pending: int | None
    scheduled: int | None
    workers: list
    today_trading: bool
    next_trading: date
    closures: list
    uncovered_years: list


def overview(queue, now=None):
    """The page's figures, from a fixed number of queries (and one question to the queue)."""
    now = now or utcnow()
    pending, scheduled = _queue_sizes(queue)
    today = china_today()
    return Overview(jobs=_job_lines(now), failures=_failures(now), pending=pending, scheduled=scheduled,
                    workers=runs.live_workers(now), today_trading=is_trading_day(today),
                    next_trading=next_trading_day(today), closures=_closures(today),
                    uncovered_years=[y for y in (today.year, today.year + 1) if not calendar_covers(y)])


def _job_lines(now):
    """Each periodic job with its newest run, whether it runs now, and when it runs next."""
    newest = select(JobRun.job, func.max(JobRun.id).label("id")).where(
        JobRun.job.in_(JOBS), JobRun.status != "skipped").group_by(JobRun.job).subquery()
    last = {run.job: run for run in db.session.scalars(select(JobRun).join(newest, JobRun.id == newest.c.id))}
    held = {s.name: s for s in db.session.scalars(select(JobState).where(JobState.lease_until > now))}
    return [JobLine(name=name, label=job.label, schedule=job.schedule.describe(), last=last.get(name),
                    running_since=_running_since(last.get(name), held.get(name)),
                    next_at=as_utc(job.schedule.next_after(from_utc(now))))
            for name, job in JOBS.items()]


def _running_since(last, held):
    """When the run holding the job's lease started (None when it is not running)."""
    return last.started_at if held and last and last.status == "running" else None


def _failures(now):
    """Failed runs and task attempts of the last 24 hours, newest first."""
    return db.session.scalars(select(JobRun).where(JobRun.status == "failed",
                                                   JobRun.started_at >= now - timedelta(hours=24))
                              .order_by(JobRun.id.desc()).limit(FAILURES_SHOWN)).all()


def _queue_sizes(queue):
    """(waiting, scheduled) tasks, or (None, None) when the queue cannot be reached."""
    try:
        return queue.sizes()
    except Exception:  # noqa: BLE001 - the page says the queue is unreachable instead of failing
        return None, None


def _closures(today):
    """Unscheduled closures from today on."""
    return db.session.scalars(select(TradingClosure).where(TradingClosure.day >= today)
                              .order_by(TradingClosure.day)).all()


def add_closure(day_text, reason, userid):
    """Record an unscheduled closure; InvalidClosure when the day or reason will not do."""
    try:
        day = date.fromisoformat(day_text or "")
    except ValueError:
        raise InvalidClosure("请填写休市日期") from None
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= 100:
        raise InvalidClosure("请填写休市原因（100 字以内）")
    if not is_trading_day(day):
        raise InvalidClosure(f"{day:%Y-%m-%d} 本来就不是交易日")
    db.session.add(TradingClosure(day=day, reason=reason, created_by=userid))
    db.session.flush()
    return day


def remove_closure(day_text):
    """Take an unscheduled closure back (an unknown day is ignored)."""
    try:
        closure = db.session.get(TradingClosure, date.fromisoformat(day_text))
    except ValueError:
        return
    if closure is not None:
        db.session.delete(closure)
