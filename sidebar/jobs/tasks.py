"""All background work: the tasks a request enqueues and the periodic jobs, each a call into its feature.

A task that fails on WeCom's side is retried with backoff, and never sooner than the client's pause
after a 45009/45033 (so it waits the pause out instead of looping); any other error is not retried.
Every failed attempt is recorded for /console/jobs; the worker's log has the traceback.
"""
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from ..extensions import db, wecom
from ..insight.snapshot import record_snapshots
from ..materials.media import renew_expiring
from ..materials.storage import storage
from ..materials.tracking import notify_first_open
from ..models import CallbackInbox, utcnow
from ..sync import full, inbox, tags
from ..sync.callback import parse_xml
from ..sync.full import SyncFailed
from ..transactions import unit_of_work
from ..wecom import WeComError
from . import runs
from .runs import JobFailed
from .schedule import Schedule, as_utc, every

RETRIED = (WeComError, SyncFailed)  # WeCom's trouble passes; anything else would only fail again
DRAIN_GRACE = timedelta(minutes=2)  # younger callbacks are still the queue's: the drain leaves them


@dataclass(frozen=True)
class Task:
    """A task requests enqueue: what it calls and how it is retried (delays in seconds)."""

    run: object
    label: str
    retries: int = 4
    delay: float = 15
    backoff: float = 3
    priority: int = 0  # higher runs first (SQLite and PostgreSQL queues; Redis keeps arrival order)


@dataclass(frozen=True)
class Job:
    """A periodic job: what it does, when, how late a missed tick may still run, how it is retried.

    run() returns what it did in words, or None when it found nothing to do (recorded as one idle run)."""

    run: object
    label: str
    schedule: Schedule
    catch_up: timedelta
    retries: int = 0
    delay: float = 600
    command: str = ""


def _pace():
    """Seconds between WeCom calls in bulk work (SYNC_PACE_SECONDS; tests set 0)."""
    return current_app.config["SYNC_PACE_SECONDS"]


# -- tasks --------------------------------------------------------------------------------------------

def process_callback(row_id):
    """Apply a stored WeCom callback (the row stays failed for the drain if every attempt fails)."""
    inbox.process(wecom(), row_id, raise_failure=True)


def push_imported_tags(account_ids):
    """Mirror the profile tags of an import's clients to WeCom."""
    tags.push_imported(wecom(), account_ids, pace=_pace())


def send_open_notice(share_id):
    """Tell the advisor that a client opened their tracked link."""
    notify_first_open(wecom(), share_id)


def send_sop_reminder(advisor, due_at):
    """Remind an advisor of one slot's SOP tasks (one app message)."""
    from datetime import datetime

    from ..sop.reminders import send

    send(wecom(), advisor, datetime.fromisoformat(due_at), _today_link())


def _today_link():
    """The 工作台's address on SIDEBAR_PUBLIC_URL, or None when it is not set (a job has no request to ask)."""
    base = current_app.config["SIDEBAR_PUBLIC_URL"]
    return base + current_app.url_map.bind("sidebar").build("sop.today") if base else None


def send_follow_up_reminder(advisor, reminder_ids):
    """Remind an advisor of their follow-up reminders due now (one app message)."""
    from ..actions.reminders import send

    send(wecom(), advisor, reminder_ids)


def send_channel_welcome(row_id):
    """The welcome of an add through a channel's code: WeCom takes its WelcomeCode for 20 s, once."""
    from ..acquisition.arrival import send_welcome

    row = db.session.get(CallbackInbox, row_id)
    if row is not None:
        send_welcome(wecom(), parse_xml(row.body.encode("utf-8")))


TASKS = {
    # Never retried: a retry would come after the WelcomeCode's 20 seconds; the outcome is recorded instead.
    "welcome": Task(send_channel_welcome, "渠道欢迎语", retries=0, priority=100),
    "sop-reminder": Task(send_sop_reminder, "SOP 提醒", retries=3, delay=30),
    "follow-up-reminder": Task(send_follow_up_reminder, "跟进提醒", retries=3, delay=30),
    "callback": Task(process_callback, "处理回调"),
    "import-tags": Task(push_imported_tags, "导入后推送画像标签", delay=60),
    "open-notice": Task(send_open_notice, "文章打开提醒", retries=5, delay=30, backoff=2),
}


# -- periodic jobs ------------------------------------------------------------------------------------

def sync_job():
    """The nightly full sync (it resumes an interrupted run)."""
    result = full.sync(wecom(), pace=_pace())
    return f"run #{result.run_id}：{result.changed()} 处变化"


def snapshot_job():
    """Today's figures of every group."""
    return f"记录 {record_snapshots()} 个群"


def push_tags_job():
    """Every linked client's profile tags to WeCom (only the differences)."""
    result = tags.push_tags(wecom(), pace=_pace())
    detail = f"检查 {result.checked}，更新 {result.marked}，新建标签 {result.created}"
    if result.failed:
        raise JobFailed(f"{result.failed} 个客户关系未能更新；{detail}")
    return detail


def drain_job():
    """Callbacks the queue did not finish (a crash, an outage): processed again."""
    result = inbox.drain(wecom(), settled_before=utcnow() - DRAIN_GRACE)
    detail = f"处理 {result.done}，忽略 {result.ignored}，清理 {result.purged}"
    if result.failed:
        raise JobFailed(f"{result.failed} 条回调处理失败，将在下次重试；{detail}")
    return detail


def sop_job():
    """SOP steps due now made tasks (sidebar/sop/tick.py); mass sends' results read (sidebar/sop/masssend.py);
    follow-up reminders due now queued (one periodic job for everything due by the minute)."""
    from ..sop.masssend import poll
    from ..sop.tick import tick

    ticked, polled, reminded = tick(), poll(wecom()), follow_up_job()
    if ticked.idle and not polled.checked and not reminded:
        return None  # recorded as one idle run (runs.finish_idle), not a row a minute
    said = [ticked.describe(), *([polled.describe()] if polled.checked else []),
            *([f"跟进提醒 {reminded} 条"] if reminded else [])]
    return "；".join(said)


def follow_up_job():
    """Follow-up reminders due now claimed once and queued, one app message per advisor; how many."""
    from ..actions.reminders import claim_due
    from ..queue import enqueue

    claimed = claim_due()
    for advisor, reminder_ids in claimed.items():
        enqueue("follow-up-reminder", advisor, reminder_ids)
    return sum(map(len, claimed.values()))


def activity_job():
    """Yesterday's WeCom service statistics (T+1) and any earlier day a stopped run left out."""
    from ..sync.activity import fetch_activity

    return fetch_activity(wecom(), pace=_pace()).describe()


def media_job():
    """Media of live materials re-uploaded before their 3-day media_id expires."""
    return f"续期 {renew_expiring(wecom(), storage())} 个物料"


JOBS = {
    "sop": Job(sop_job, "SOP 任务", every(1), catch_up=timedelta(minutes=2), command="sop-tick"),
    "drain": Job(drain_job, "回调补处理", every(5), catch_up=timedelta(minutes=5), command="drain-inbox"),
    "media": Job(media_job, "物料续期", Schedule(minutes=(20,)), catch_up=timedelta(hours=1), retries=2, delay=300),
    "snapshot": Job(snapshot_job, "群每日快照", Schedule(minutes=(55,), hours=(23,)), catch_up=timedelta(minutes=4),
                    command="snapshot"),
    "sync": Job(sync_job, "全量同步", Schedule(minutes=(30,), hours=(2,)), catch_up=timedelta(hours=3), retries=3,
                command="sync"),
    "activity": Job(activity_job, "企微服务统计", Schedule(minutes=(15,), hours=(6,)), catch_up=timedelta(hours=6),
                    retries=3),
    "push-tags": Job(push_tags_job, "客户画像标签推送", Schedule(minutes=(30,), hours=(3,)),
                     catch_up=timedelta(hours=3), retries=3, command="push-tags"),
}


def due(now, sent):
    """(job, tick) for each job whose newest tick up to now (aware) is not claimed yet nor in `sent`."""
    claimed = runs.last_ticks()
    for name, job in JOBS.items():
        moment = job.schedule.latest(now, now - job.catch_up)
        if moment is None:
            continue
        tick = as_utc(moment)
        if (claimed.get(name) is None or claimed[name] < tick) and sent.get(name) != tick:
            yield name, tick


# -- registration on an app's Huey ----------------------------------------------------------------

def register(huey, app):
    """Register every task, and the runner of periodic jobs, on huey for app; returns them by name."""
    scale = app.config["JOB_RETRY_SCALE"]  # tests shorten the delays
    ordered = huey.storage.priority  # Redis (huey's RedisStorage) refuses priorities: arrival order there
    registered = {name: huey.task(name=name, context=True, retries=task.retries, retry_delay=task.delay * scale,
                                  retry_backoff=task.backoff, priority=(task.priority or None) if ordered else None)
                  (_queued(app, name, task.run))
                  for name, task in TASKS.items()}
    registered["periodic"] = huey.task(name="periodic", context=True)(_periodic(app))
    return registered


def _queued(app, name, work):
    """work(*args) in an app context; a failure is recorded, and retried only when WeCom caused it."""
    def run(*args, task=None):
        with app.app_context():
            try:
                return unit_of_work(work, *args)  # committed when it returns, undone when it raises
            except Exception as error:
                runs.record_failure(name, error, _plan_retry(task, error))
                raise
    return run


def _plan_retry(task, error):
    """Decide the task's retry (Huey does it when we re-raise) and say it in words."""
    if not isinstance(error, RETRIED) or not task.retries:
        task.retries = 0
        return "不再重试"
    task.retry_delay = max(task.retry_delay, wecom().pause_remaining())  # 45009/45033: after the pause
    return f"{task.retry_delay:.0f} 秒后重试（还剩 {task.retries} 次）"


def _periodic(app):
    """The runner of periodic jobs: claim the tick, hold the lease while working, record the outcome."""
    def run(name, tick, attempts=0, task=None):
        job, holder = JOBS[name], runs.holder_id("worker")
        with app.app_context():
            try:  # a retry has its tick already: it only needs the lease
                run_id = runs.begin(name, "schedule", holder, tick=tick, retry=task.retries < attempts)
            except runs.Busy:
                return  # recorded as skipped
            if run_id is not None:
                _work(app, job, name, run_id, holder, task)
    return run


def _work(app, job, name, run_id, holder, task):
    """Run job under its lease and record how it went; a WeCom failure is re-raised for Huey's retry."""
    with runs.renewing(app, name, holder):
        try:
            detail = unit_of_work(job.run)  # committed when it returns, undone when it raises
        except Exception as error:
            note = _plan_retry(task, error)
            runs.finish(run_id, holder, "failed", detail=note, error=runs.describe(error))
            raise
    if detail is None:  # nothing to do: it replaces the job's earlier idle run (one row, not one a minute)
        runs.finish_idle(run_id, holder)
    else:
        runs.finish(run_id, holder, "done", detail=detail)


def enqueue_periodic(queue, name, tick):
    """Enqueue job name's run for tick, with the job's retries."""
    job = JOBS[name]
    scale = queue.app.config["JOB_RETRY_SCALE"]
    return queue.enqueue("periodic", name, tick, job.retries, retries=job.retries, retry_delay=job.delay * scale,
                         retry_backoff=2)
