"""The queue's statistics job keeps the pacing setting between every WeCom call, and a run stopped in its group
phase is continued by the next one: nothing stored is asked again, nothing is stored twice."""
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from helpers import make_app
from sidebar.extensions import db, wecom
from sidebar.jobs.tasks import JOBS
from sidebar.models import AdvisorActivity, GroupActivity, china_today
from sidebar.sync.activity import LOOKBACK_DAYS, epoch, fetch_activity
from sidebar.wecom import WeComError
from test_activity_fetch import BEHAVIOR, GROUPS, calls, fault, follow_users

PACE = 0.08  # well above the default (sync/pacing.py's 0.02): a job that ignored the setting shows
FOLLOW_LIST = "/cgi-bin/externalcontact/get_follow_user_list"
DAYS = 4
JITTER = 0.1  # seconds an arrival may be noted late on a busy machine


def test_the_job_spaces_every_call_by_the_pacing_setting(tmp_path, emulator, world):
    app = make_app(tmp_path / "sidebar.db", emulator.url, SYNC_PACE_SECONDS=PACE)
    with app.app_context():
        wecom().access_token()  # the token call before the job: it is not one of the paced calls
        calls(emulator, BEHAVIOR)
        JOBS["activity"].run()
    log = requests.get(f"{emulator.url}/_admin/calls", timeout=5).json()["calls"]
    paced = [c for c in log if c["path"] in (FOLLOW_LIST, BEHAVIOR, GROUPS)]
    assert len(paced) == 1 + len(follow_users(world)) + LOOKBACK_DAYS
    times = [c["at"] for c in paced]
    # The emulator notes a call when it arrives, a little late when the machine is busy: one late arrival makes
    # one gap short, but no stretch of calls can be shorter than its calls' pacing, less that much
    for first in range(len(times)):
        for last in range(first + 1, len(times)):
            assert times[last] - times[first] >= (last - first) * PACE - JITTER, (first, last)


@pytest.fixture
def quick_app(tmp_path, emulator):
    """Unpaced, short rate-limit pauses."""
    return make_app(tmp_path / "sidebar.db", emulator.url, SYNC_PACE_SECONDS=0, WECOM_RATE_LIMIT_PAUSE=0.2)


def run(app):
    """One run over the last DAYS days."""
    with app.app_context():
        return fetch_activity(wecom(), today=china_today(), days=DAYS, pace=0)


def stored(app):
    """(advisor days, owner days) as sets of keys, and the row counts (a duplicate would raise them)."""
    with app.app_context():
        advisors = set(db.session.execute(select(AdvisorActivity.userid, AdvisorActivity.day)).tuples())
        owners = set(db.session.execute(select(GroupActivity.owner, GroupActivity.day)).tuples())
        counts = (db.session.scalar(select(func.count()).select_from(AdvisorActivity)),
                  db.session.scalar(select(func.count()).select_from(GroupActivity)))
    return advisors, owners, counts


def test_a_run_stopped_in_the_group_phase_continues_with_the_days_it_left(quick_app, emulator, world):
    fault(emulator, errcode=60011, path=GROUPS, after=2)  # the third day's group call fails
    with pytest.raises(WeComError):
        run(quick_app)
    advisors, owners, _ = stored(quick_app)
    members = follow_users(world)
    days = [china_today() - timedelta(days=n) for n in range(DAYS, 0, -1)]
    assert advisors == {(u, d) for u in members for d in days}, "the advisor phase finished"
    assert {d for _, d in owners} == set(days[:2]), "two days of groups stored before the stop"
    requests.delete(f"{emulator.url}/_admin/faults", timeout=5)
    calls(emulator, BEHAVIOR)
    run(quick_app)
    log = requests.get(f"{emulator.url}/_admin/calls", timeout=5).json()["calls"]
    assert [c for c in log if c["path"] == BEHAVIOR] == [], "no advisor day asked again"
    asked = sorted(c["params"]["day_begin_time"] for c in log if c["path"] == GROUPS)
    assert asked == [epoch(d) for d in days[2:]], "only the days the stopped run left"
    advisors, owners, counts = stored(quick_app)
    assert owners == {(u, d) for u in members for d in days}
    assert counts == (len(members) * DAYS, len(members) * DAYS), "no row twice"
