"""Claims, leases and the record of runs, in the app's database: the same on every queue engine.

A periodic job runs once per tick however many workers (on however many hosts) enqueued it: the
first to move the job's `last_tick` forward claims it, in one conditional UPDATE. The same UPDATE
takes the job's lease, so no two runs of a job overlap; the holder renews the lease while it works,
and a holder that crashed lets it lapse within LEASE.
"""
import os
import socket
import threading
import uuid
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import delete, or_, select, true, update

from ..database import upsert
from ..extensions import db
from ..models import JobRun, JobState, JobWorker, utcnow
from ..sync.full import SyncFailed
from ..wecom import WeComError

LEASE = timedelta(minutes=2)
RENEW_EVERY = 30  # seconds: four renewals a lease, so a slow database does not lose it
KEEP = timedelta(days=30)  # runs and failures shown and kept
ALIVE = timedelta(seconds=90)  # a worker silent this long is not listed as alive
GONE = timedelta(days=1)  # ... and its row is deleted after this


class Busy(Exception):
    """Another run of the job holds its lease."""


class JobFailed(Exception):
    """A job finished but did not do all it should (its message says what, without client data)."""


IDLE = "无新变化"  # the detail of a run that found nothing to do (finish_idle)
SAID = (WeComError, SyncFailed, JobFailed)  # their messages are WeCom's or ours: no client data


def holder_id(kind):
    """A name for one run's holder: what it is, where, which process; unique per run."""
    return f"{kind}:{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def describe(error):
    """What a failure's record says: WeCom's errcode and message or our own, else only the error's type.

    Other errors' texts may carry client data or SQL parameters; their tracebacks go to the worker's log.
    """
    return (str(error) if isinstance(error, SAID) else type(error).__name__)[:255]


def begin(name, trigger, holder, tick=None, retry=False, now=None):
    """Claim job `name` (for `tick`, when scheduled) and record the run; None when another worker has it.

    A retry of a tick's run only needs the lease. A tick whose job is still running from an earlier
    one is recorded once as skipped; Busy is raised for it, and for any run by hand or retry while
    the lease is held.
    Boundary: the claim is committed at once — other workers must see it before this run does anything.
    """
    now = now or utcnow()
    db.session.execute(upsert(db.session.get_bind(), JobState.__table__).values(name=name).on_conflict_do_nothing())
    claims = tick is not None and not retry
    newer = or_(JobState.last_tick.is_(None), JobState.last_tick < tick) if claims else true()
    free = or_(JobState.lease_until.is_(None), JobState.lease_until < now)
    values = {"holder": holder, "lease_until": now + LEASE, **({"last_tick": tick} if claims else {})}
    claimed = db.session.execute(update(JobState).where(JobState.name == name, newer, free).values(**values))
    if claimed.rowcount:
        run = JobRun(job=name, trigger=trigger, tick=tick, host=holder, started_at=now)
        db.session.add(run)
        db.session.commit()
        return run.id
    if claims and not db.session.execute(update(JobState).where(JobState.name == name, newer)
                                         .values(last_tick=tick)).rowcount:
        db.session.commit()
        return None  # this tick is another worker's
    db.session.add(JobRun(job=name, trigger=trigger, tick=tick, host=holder, started_at=now, finished_at=now,
                          status="skipped", detail=_held_by(name)))
    db.session.commit()
    raise Busy(_held_by(name))


def _held_by(name):
    """Who holds job name's lease, in words."""
    state = db.session.get(JobState, name)
    return f"上一次运行尚未结束（{state.holder}）" if state and state.holder else "上一次运行尚未结束"


def finish(run_id, holder, status, detail=None, error=None):
    """Record how a run ended, free its job's lease, and forget the job's runs older than KEEP.

    Boundary: the run's record, committed whatever became of the job's own work.
    """
    run = db.session.get(JobRun, run_id)
    run.status, run.finished_at = status, utcnow()
    run.detail, run.error = (detail or "")[:255] or None, (error or "")[:255] or None
    db.session.execute(update(JobState).where(JobState.name == run.job, JobState.holder == holder)
                       .values(holder=None, lease_until=None))
    _purge(run.job)
    db.session.commit()


def finish_idle(run_id, holder):
    """Record a run that found nothing to do: it replaces the job's earlier idle runs, so a job ticking
    every minute leaves its busy runs and one row for the latest quiet one, not a row a minute."""
    run = db.session.get(JobRun, run_id)
    db.session.execute(delete(JobRun).where(JobRun.job == run.job, JobRun.id < run.id, JobRun.status == "done",
                                            JobRun.detail == IDLE))
    finish(run_id, holder, "done", detail=IDLE)


def record_failure(name, error, detail):
    """A queued task's failed attempt, kept for the console (the task itself is retried or dropped).

    Boundary: committed after the task's work was rolled back: the failure is kept, the work is not.
    """
    now = utcnow()
    db.session.add(JobRun(job=name, trigger="queue", host=holder_id("worker"), started_at=now, finished_at=now,
                          status="failed", detail=detail[:255], error=describe(error)))
    _purge(name)
    db.session.commit()


def _purge(name):
    """Delete job name's records older than KEEP (an index range: cheap enough to do on every record)."""
    db.session.execute(delete(JobRun).where(JobRun.job == name, JobRun.started_at < utcnow() - KEEP))


def renew(name, holder):
    """Extend the lease `holder` has on job name.

    Boundary: the lease thread's own session; other workers must see the renewal.
    """
    db.session.execute(update(JobState).where(JobState.name == name, JobState.holder == holder)
                       .values(lease_until=utcnow() + LEASE))
    db.session.commit()


@contextmanager
def renewing(app, name, holder, every=RENEW_EVERY):
    """Keep renewing holder's lease on job name from a thread while the block runs."""
    stop = threading.Event()

    def keep():
        """Renew until told to stop; a failed renewal is retried at the next turn."""
        while not stop.wait(every):
            with app.app_context():
                try:
                    renew(name, holder)
                except Exception:  # noqa: BLE001 - the database may be away for a moment
                    app.logger.exception("lease of %s not renewed", name)

    thread = threading.Thread(target=keep, name=f"lease-{name}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def heartbeat(worker_id, threads):
    """Say that this worker is alive (one row per worker process, updated every few seconds).

    Boundary: the worker's own record, seen by the console.
    """
    now = utcnow()
    seen = db.session.execute(update(JobWorker).where(JobWorker.id == worker_id).values(seen_at=now))
    if not seen.rowcount:
        host, pid = worker_id.split(":")[1:3]
        db.session.add(JobWorker(id=worker_id, host=host, pid=int(pid), threads=threads, started_at=now, seen_at=now))
    db.session.execute(delete(JobWorker).where(JobWorker.seen_at < now - GONE))
    db.session.commit()


def forget_worker(worker_id):
    """A worker stopping cleanly takes its row away.

    Boundary: the worker's own record, as heartbeat.
    """
    db.session.execute(delete(JobWorker).where(JobWorker.id == worker_id))
    db.session.commit()


def live_workers(now=None):
    """Workers heard from within ALIVE, oldest first."""
    since = (now or utcnow()) - ALIVE
    return db.session.scalars(select(JobWorker).where(JobWorker.seen_at >= since)
                              .order_by(JobWorker.started_at)).all()


def last_ticks():
    """name -> the newest tick claimed, for every job that has run."""
    return {name: tick for name, tick in db.session.execute(select(JobState.name, JobState.last_tick))}
