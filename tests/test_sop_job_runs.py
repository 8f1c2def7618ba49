"""The SOP job ticks every minute: a run that found nothing to do replaces the previous idle run, so
/console/jobs keeps every busy run and one row for the latest quiet run, not a row a minute."""
from datetime import datetime, timedelta

from sqlalchemy import select

from sidebar.extensions import db
from sidebar.jobs import runs
from sidebar.jobs.tasks import JOBS, _work
from sidebar.models import CHINA, JobRun
from sop_helpers import add_group, add_staff, live_plan


def run_sop_job(app, minute):
    """One scheduled run of the SOP job for a tick `minute` minutes after 2026-12-08 02:00 UTC."""
    tick = datetime(2026, 12, 8, 2, 0) + timedelta(minutes=minute)
    holder = runs.holder_id("worker")
    with app.app_context():
        run_id = runs.begin("sop", "schedule", holder, tick=tick)
        _work(app, JOBS["sop"], "sop", run_id, holder, task=None)


def sop_runs(app):
    """(tick minute, detail) of the SOP job's recorded runs, oldest first."""
    with app.app_context():
        return [(run.tick.minute, run.detail) for run in db.session.scalars(
            select(JobRun).where(JobRun.job == "sop").order_by(JobRun.id))]


def test_idle_sop_ticks_leave_one_row_and_busy_ones_all_stay(app):
    run_sop_job(app, 1)
    run_sop_job(app, 2)
    run_sop_job(app, 3)
    assert sop_runs(app) == [(3, runs.IDLE)]

    from sidebar.identity.service import grant_role
    with app.app_context():
        grant_role("wangyun", "operator")
        db.session.commit()
        grant_role("sunli", "compliance")
        db.session.commit()
        add_staff("zhangwei", "张伟", 3)
        add_group("wrSHOW", "样板间·一群", "zhangwei")
        db.session.commit()
    start = (datetime.now(CHINA) - timedelta(minutes=5)).replace(second=0, microsecond=0)
    live_plan(app, {"name": "直播预告", "kind": "group", "groups": ["wrSHOW"], "holdout": 0,
                    "steps": [{"at": {"datetime": start.isoformat()}, "window_minutes": 60, "text": "今晚直播",
                               "materials": []}]})
    run_sop_job(app, 4)  # the group joins and its task is made
    run_sop_job(app, 5)
    run_sop_job(app, 6)
    recorded = sop_runs(app)
    assert [minute for minute, _ in recorded] == [4, 6], "the busy run, and the latest idle one only"
    assert "新任务 1" in recorded[0][1] and recorded[1][1] == runs.IDLE
