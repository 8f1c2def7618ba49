"""Background work on the task queue: real workers (threads of this process) against the real queue —
a SQLite file in the SQLite suite, PostgreSQL tables in the PostgreSQL suite, and Redis in both — with
the schedule driven by a clock the test moves, never by waiting for the minute."""
import importlib.util
import re
import time
from datetime import date, datetime
from pathlib import Path

import pytest
import requests
from huey.signals import SIGNAL_EXECUTING
from huey.storage import PostgresStorage
from sqlalchemy import select

from helpers import (LiveServer, change_world, eventually, make_app, publish, run_worker, serve_callbacks, signed_in,
                     wecom_calls)
from sidebar.config import ConfigError, load_settings
from sidebar.demo import EMULATOR_PREFIX, prepare_demo
from sidebar.extensions import db
from sidebar.identity.service import grant_role
from sidebar.jobs import runs
from sidebar.jobs.schedule import Schedule, from_utc
from sidebar.domain.calendar import calendar_covers, is_trading_day, next_trading_day
from sidebar.models import CHINA, CallbackInbox, Follow, JobRun, china_today

GET_CONTACT = "/cgi-bin/externalcontact/get"
FOLLOW_USERS = "/cgi-bin/externalcontact/get_follow_user_list"
SEND = "/cgi-bin/message/send"


class Clock:
    """The time the workers' schedulers read; the test moves it."""

    def __init__(self, china_time):
        self.set(china_time)

    def set(self, china_time):
        """Jump to an ISO time with its +08:00 offset."""
        self.now = datetime.fromisoformat(china_time)

    def __call__(self):
        return self.now


@pytest.fixture(params=["database", "redis"])
def queue_settings(request):
    """Where the queue lives: next to the suite's database (SQLite file or PostgreSQL), or in Redis."""
    if request.param == "redis":
        return {"SIDEBAR_QUEUE_URL": request.getfixturevalue("redis_url")}
    return {}


def sizes(app):
    """(waiting, scheduled) tasks in app's queue."""
    return app.extensions["jobs"].sizes()


def job_runs(app, **where):
    """(job, tick as China time, status) of every recorded run, oldest first."""
    with app.app_context():
        query = select(JobRun).filter_by(**where).order_by(JobRun.id)
        return [(r.job, r.tick and f"{as_china(r.tick):%H:%M}", r.status) for r in db.session.scalars(query)]


def as_china(naive_utc):
    """A stored naive-UTC time as China time."""
    return from_utc(naive_utc).astimezone(CHINA)


# -- callbacks wait on the queue, not in a thread after the response ---------------------------------

def inbox_row(app):
    """(status, attempts) of the one stored callback."""
    with app.app_context():
        row = db.session.scalar(select(CallbackInbox))
        return row and (row.status, row.attempts)


def test_a_callback_waiting_while_the_worker_is_stopped_is_processed_exactly_once_when_workers_start(
        tmp_path, own_emulator, queue_settings):
    app = make_app(tmp_path / "sidebar.db", own_emulator.url, SYNC_PACE_SECONDS=0, **queue_settings)
    server = serve_callbacks(app, own_emulator)
    try:
        run_worker(app).stop(graceful=True)  # a worker ran, then stopped (a deploy, a crash)
        userid, external_userid = next(iter(own_emulator.emulator.world.follows))
        before = wecom_calls(own_emulator, GET_CONTACT)
        answer = change_world(own_emulator, "edit_follow", userid=userid, external_userid=external_userid,
                              remark="停机期间改的备注")
        assert answer["callbacks"][0]["answers"] == [200]  # WeCom is answered at once ...
        time.sleep(2)  # ... and past the callback's settle delay nothing has touched it
        assert inbox_row(app) == ("pending", 0)
        assert sum(sizes(app)) == 1  # it waits in the queue

        for _ in range(2):  # two workers start at once
            run_worker(app)
        assert eventually(lambda: inbox_row(app) == ("done", 1), timeout=10)
        assert eventually(lambda: sizes(app) == (0, 0))
        assert wecom_calls(own_emulator, GET_CONTACT) == before + 1  # fetched once: processed once
        with app.app_context():
            follow = db.session.scalar(select(Follow).filter_by(userid=userid, external_userid=external_userid))
            assert follow.remark == "停机期间改的备注"
    finally:
        requests.delete(f"{own_emulator.url}/_admin/callback", timeout=5)
        server.stop()


# -- periodic jobs: once per tick, however many workers ----------------------------------------------

def count_executions(app, counts):
    """Count, by job, the periodic tasks app's workers start (whether or not they win the tick)."""
    def executing(signal, task):
        if type(task).__name__ == "periodic":
            counts[task.args[0]] = counts.get(task.args[0], 0) + 1
    app.extensions["jobs"].huey.signal(SIGNAL_EXECUTING)(executing)


def test_two_workers_run_each_periodic_job_once_per_tick(tmp_path, own_emulator, queue_settings):
    # two hosts: two apps on one database and one queue, each with its own worker
    hosts = [make_app(tmp_path / "sidebar.db", own_emulator.url, SYNC_PACE_SECONDS=0, **queue_settings)
             for _ in range(2)]
    executions = {}
    for app in hosts:
        count_executions(app, executions)
    clock = Clock("2026-12-08T02:29:30+08:00")
    # Both schedulers see each tick before either worker runs it (scheduler-only consumers first,
    # then the worker threads), so every tick is really fought over.
    schedulers = [run_worker(app, threads=0, periodic=True, clock=clock) for app in hosts]
    # started at 02:29:30: the drain's 02:25 tick, the media renewal's 02:20 and the SOP tick's 02:29
    # are recent enough to run
    assert eventually(lambda: sizes(hosts[0]) == (6, 0))
    workers = [run_worker(app) for app in hosts]
    assert eventually(lambda: sizes(hosts[0]) == (0, 0) and len(job_runs(hosts[0], status="done")) == 3)
    for worker in workers:
        worker.stop(graceful=True)

    clock.set("2026-12-08T02:30:00+08:00")  # the nightly sync's tick, the drain's and the SOP tick's
    assert eventually(lambda: sizes(hosts[0]) == (6, 0))
    for app in hosts:
        run_worker(app)
    # 5: the SOP tick found nothing to do at 02:29 and 02:30, and one row stands for its quiet stretch
    assert eventually(lambda: sizes(hosts[0]) == (0, 0) and len(job_runs(hosts[0], status="done")) == 5,
                      timeout=20)
    for scheduler in schedulers:
        scheduler.stop(graceful=True)

    assert sorted(job_runs(hosts[0])) == [("drain", "02:25", "done"), ("drain", "02:30", "done"),
                                          ("media", "02:20", "done"), ("sop", "02:30", "done"),
                                          ("sync", "02:30", "done")]
    assert executions == {"drain": 4, "media": 2, "sop": 4, "sync": 2}  # both hosts took every tick; one ran it
    assert wecom_calls(own_emulator, FOLLOW_USERS) == 1  # one full sync


def test_a_run_that_lost_its_holder_frees_the_job_when_its_lease_lapses(app):
    with app.app_context():
        start = datetime(2026, 12, 8, 2, 0)
        assert runs.begin("drain", "schedule", "worker:a:1:x", tick=start, now=start)  # then the host died
        with pytest.raises(runs.Busy):  # the next tick, a minute later: still held
            runs.begin("drain", "schedule", "worker:b:2:y", tick=start.replace(minute=5), now=start.replace(minute=1))
        assert runs.begin("drain", "schedule", "worker:b:2:y", tick=start.replace(minute=10),
                          now=start.replace(minute=10)) is not None  # the lease has lapsed
    assert [status for _, _, status in job_runs(app)] == ["running", "skipped", "running"]


def test_a_command_by_hand_waits_for_the_workers_run(app, emulator):
    with app.app_context():
        run_id = runs.begin("sync", "schedule", "worker:a:1:x", tick=datetime(2026, 12, 7, 18, 30))
    refused = app.test_cli_runner().invoke(args=["sync"])
    assert refused.exit_code == 1 and "sync is running already" in refused.output
    with app.app_context():
        runs.finish(run_id, "worker:a:1:x", "done")
    done = app.test_cli_runner().invoke(args=["sync"])
    assert done.exit_code == 0, done.output
    assert job_runs(app, trigger="command") == [("sync", None, "skipped"), ("sync", None, "done")]


# -- WeCom failures: retried with backoff, a rate limit waited out, every failure shown ---------------

def test_a_rate_limited_app_message_waits_for_the_pause_and_the_failure_is_shown(tmp_path, emulator, world):
    app = make_app(tmp_path / "sidebar.db", emulator.url, WECOM_RATE_LIMIT_PAUSE=1.5, JOB_RETRY_SCALE=0.01)
    with app.app_context():
        for userid, role in (("zhaomin", "content"), ("sunli", "compliance"), ("zhouqiang", "manager")):
            grant_role(userid, role)
            db.session.commit()
    follow = next(f for f in world["follows"] if f["userid"] == "zhangwei")
    material = publish(app, "link", title="年末资产配置", url="https://research.example.com/y")
    advisor = signed_in(app, "zhangwei")
    advisor.get(f"/sidebar/contacts/{follow['external_userid']}")
    body = advisor.post(f"/sidebar/materials/{material}/shares", headers={"X-CSRFToken": advisor.csrf},
                        data={"target": f"contact:{follow['external_userid']}"}).get_json()
    advisor.post(body["report_url"], data={"result": "sent"}, headers={"X-CSRFToken": advisor.csrf})
    token = re.search(r"/r/([A-Za-z0-9_-]+)$", body["message"]["news"]["link"]).group(1)
    requests.delete(f"{emulator.url}/_admin/calls", timeout=5)
    requests.post(f"{emulator.url}/_admin/faults", json={"errcode": 45009, "path": SEND, "count": 1}, timeout=5)
    run_worker(app)

    assert app.test_client().get(f"/r/{token}").status_code == 302  # the client is not kept waiting
    calls = eventually(lambda: [c for c in emulator_calls(emulator) if c["path"] == SEND][1:] and
                       [c for c in emulator_calls(emulator) if c["path"] == SEND], timeout=10)
    assert len(calls) == 2  # the refused call, and one more after the pause: no loop
    assert calls[1]["at"] - calls[0]["at"] >= 1.4  # the retry waited out WeCom's pause (base delay: 0.3 s) ...
    assert eventually(lambda: job_runs(app, status="failed") == [("open-notice", None, "failed")])
    time.sleep(0.5)
    assert len(job_runs(app, status="failed")) == 1  # ... in one step: no attempts spent against the pause
    messages = requests.get(f"{emulator.url}/_admin/messages", timeout=5).json()["messages"]
    assert [m["message"]["text"]["content"] for m in messages if m["kind"] == "app"] == [
        f"客户{contact_name(world, follow)} 打开了《年末资产配置》"]  # sent once

    page = signed_in(app, "zhouqiang").get("/console/jobs").get_data(as_text=True)
    failures = page[page.index("最近 24 小时的失败"):page.index("队列与 worker")]
    assert "文章打开提醒" in failures and "45009" in failures and "秒后重试" in failures


def contact_name(world, follow):
    """How the sidebar names a followed contact: the advisor's remark, else the WeChat name."""
    return follow["remark"] or next(c["name"] for c in world["contacts"]
                                    if c["external_userid"] == follow["external_userid"])


def emulator_calls(emulator):
    """The emulator's call log."""
    return requests.get(f"{emulator.url}/_admin/calls", timeout=5).json()["calls"]


def test_a_periodic_job_that_fails_on_wecom_is_shown_failed_and_retried(tmp_path, own_emulator):
    app = make_app(tmp_path / "sidebar.db", own_emulator.url, SYNC_PACE_SECONDS=0, JOB_RETRY_SCALE=0.001)
    with app.app_context():
        grant_role("zhouqiang", "manager")
        db.session.commit()
    requests.post(f"{own_emulator.url}/_admin/faults", json={"down": True}, timeout=5)
    clock = Clock("2026-12-08T02:30:00+08:00")
    run_worker(app, periodic=True, clock=clock)
    assert eventually(lambda: ("sync", "02:30", "failed") in job_runs(app), timeout=10)
    page = signed_in_when_up(app, own_emulator).get("/console/jobs").get_data(as_text=True)
    assert "全量同步" in page[page.index("最近 24 小时的失败"):]
    # the retry (10 minutes later in production; 0.6 s here, at least the outage pause) finishes it
    assert eventually(lambda: ("sync", "02:30", "done") in job_runs(app), timeout=15)


def signed_in_when_up(app, emulator):
    """The manager signed in once WeCom answers again (the login itself needs it)."""
    requests.post(f"{emulator.url}/_admin/faults", json={"down": False}, timeout=5)
    return signed_in(app, "zhouqiang")


# (that an import's tag push happens in the worker, not in the request: tests/test_push_tags.py)


# -- the demo: its worker, seen in the console -------------------------------------------------------

def test_after_the_demo_has_run_a_minute_the_console_shows_the_periodic_jobs_runs(tmp_path):
    server = LiveServer()
    app = make_app(tmp_path / "demo.db", server.url + EMULATOR_PREFIX)
    server.app, server.emulator = prepare_demo(app)
    try:
        clock = Clock("2026-12-08T23:54:40+08:00")
        run_worker(app, periodic=True, clock=clock)  # as `flask --app wsgi demo` starts one
        assert eventually(lambda: len(job_runs(app, status="done")) == 3, timeout=10)  # drain, media, sop
        clock.set("2026-12-08T23:55:40+08:00")  # a minute later: the daily group snapshot is due
        assert eventually(lambda: ("snapshot", "23:55", "done") in job_runs(app), timeout=10)

        response = signed_in(app, "zhouqiang").get("/console/jobs")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        for job in ("drain", "media", "snapshot"):
            row = re.search(rf'<tr data-job="{job}">(.*?)</tr>', page, re.S).group(1)
            assert 'data-status="done"' in row and "成功" in row, job
        assert re.search(r"记录 [0-9]+ 个群", page), page  # what the snapshot did
        sync_row = re.search(r'<tr data-job="sync">(.*?)</tr>', page, re.S).group(1)
        assert "尚未运行" in sync_row and "02:30" in sync_row  # its next run
        assert "没有正在运行的 worker" not in page and 'class="grid jobs-workers"' in page
        assert "<strong data-pending>0</strong>" in page
    finally:
        server.stop()


def test_the_jobs_page_is_for_managers_only(app, emulator):
    with app.app_context():
        grant_role("zhaomin", "content")
        db.session.commit()
    assert signed_in(app, "zhaomin").get("/console/jobs").status_code == 403
    assert signed_in(app, "zhangwei").get("/console/jobs").status_code == 403


def test_readiness_includes_the_queue(app, emulator):
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ok", "database": "ok", "queue": "ok", "pending": 0, "scheduled": 0}


# -- time: China's, and the exchanges' trading days ----------------------------------------------------

@pytest.mark.parametrize("day,trading", [
    ("2026-02-13", True),  # the Friday before the Spring Festival
    ("2026-02-14", False),  # a make-up working Saturday: offices work, the exchanges do not
    ("2026-02-16", False), ("2026-02-20", False), ("2026-02-23", False),  # Spring Festival
    ("2026-02-24", True),
    ("2026-02-28", False),  # the other make-up Saturday
    ("2026-10-01", False), ("2026-10-07", False),  # National Day
    ("2026-10-08", True),
    ("2026-10-10", False),  # make-up Saturday
    ("2024-02-09", False),  # 除夕 2024: a working day, yet the exchanges closed
    ("2026-12-08", True),
])
def test_trading_days_follow_the_exchanges(app, day, trading):
    with app.app_context():
        assert is_trading_day(date.fromisoformat(day)) is trading


def test_an_unscheduled_closure_is_added_in_the_console(app, emulator):
    with app.app_context():
        grant_role("zhouqiang", "manager")
        db.session.commit()
    manager = signed_in(app, "zhouqiang")
    added = manager.post("/console/jobs/closures", data={"csrf_token": manager.csrf, "day": "2026-12-09",
                                                         "reason": "台风停市"})
    assert added.status_code == 303
    with app.app_context():
        assert not is_trading_day(date(2026, 12, 9))
        assert next_trading_day(date(2026, 12, 8)) == date(2026, 12, 10)
    assert "台风停市" in manager.get("/console/jobs").get_data(as_text=True)
    weekend = manager.post("/console/jobs/closures", data={"csrf_token": manager.csrf, "day": "2026-12-12",
                                                           "reason": "周六"})
    assert weekend.status_code == 400 and "本来就不是交易日" in weekend.get_data(as_text=True)
    manager.post("/console/jobs/closures/2026-12-09/delete", data={"csrf_token": manager.csrf})
    with app.app_context():
        assert is_trading_day(date(2026, 12, 9))


def test_a_year_the_calendar_does_not_know_yet_counts_weekdays_and_the_page_says_so(app, emulator):
    with app.app_context():
        grant_role("zhouqiang", "manager")
        db.session.commit()
        assert calendar_covers(2026) and not calendar_covers(2099)
        assert is_trading_day(date(2099, 1, 5)) and not is_trading_day(date(2099, 1, 10))  # Monday; Saturday
        today = china_today()
        unknown = [year for year in (today.year, today.year + 1) if not calendar_covers(year)]
    page = signed_in(app, "zhouqiang").get("/console/jobs").get_data(as_text=True)
    for year in unknown:
        assert f"日历尚未包含 {year} 年的节假日安排" in page


def test_schedules_are_china_time_whatever_the_hosts_zone(app, monkeypatch):
    sop = Schedule(minutes=(45,), hours=(8,), trading_days=True)
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        with app.app_context():
            friday_evening = datetime.fromisoformat("2026-02-13T18:00:00+08:00")
            assert sop.next_after(friday_evening) == datetime.fromisoformat("2026-02-24T08:45:00+08:00")
            assert sop.latest(datetime.fromisoformat("2026-02-24T08:45:00+08:00"), friday_evening) \
                == datetime.fromisoformat("2026-02-24T08:45:00+08:00")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert Schedule(minutes=(55,), hours=(23,)).describe() == "每天 23:55"
    assert sop.describe() == "交易日 08:45"


# -- settings and schema -------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["http://cache.internal:6379", "redis://", "postgresql://db/sidebar"])
def test_a_queue_url_that_is_not_redis_stops_the_app(tmp_path, value):
    with pytest.raises(ConfigError, match="SIDEBAR_QUEUE_URL"):
        load_settings({"SIDEBAR_QUEUE_URL": value}, {"SIDEBAR_MODE": "test"}, str(tmp_path))


def test_the_migration_makes_the_queue_tables_huey_would(tmp_path):
    path = Path(__file__).resolve().parent.parent / "migrations/versions/0011_jobs.py"
    spec = importlib.util.spec_from_file_location("migration_0011", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    huey = PostgresStorage("sidebar", dsn="postgresql://nobody@127.0.0.1:9/none", create_tables=False)
    assert migration.QUEUE_DDL == huey.ddl  # a new Huey with other tables needs a new migration
