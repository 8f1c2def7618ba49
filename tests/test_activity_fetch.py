"""WeCom's service statistics fetched as history: one call per advisor (never one aggregate), per owner for groups,
paced, resumable without duplicate rows, a stored day never asked again; the emulator's span and age rules."""
from datetime import datetime, timedelta

import pytest
import requests
from sqlalchemy import func, select

from helpers import make_app
from sidebar.extensions import db, wecom
from sidebar.models import CHINA, AdvisorActivity, GroupActivity, china_today
from sidebar.sync.activity import epoch, fetch_activity
from sidebar.wecom import WeComError

BEHAVIOR = "/cgi-bin/externalcontact/get_user_behavior_data"
GROUPS = "/cgi-bin/externalcontact/groupchat/statistic"
DAYS = 5


def fault(emulator, **body):
    """Flip an emulator fault switch."""
    requests.post(f"{emulator.url}/_admin/faults", json=body, timeout=5).raise_for_status()


def calls(emulator, path):
    """The emulator's call log entries on one path, and the log emptied."""
    log = requests.get(f"{emulator.url}/_admin/calls", timeout=5).json()["calls"]
    requests.delete(f"{emulator.url}/_admin/calls", timeout=5)
    return [c for c in log if c["path"] == path]


@pytest.fixture
def stats_app(tmp_path, emulator):
    """An app whose rate-limit pause is short, the calls unpaced."""
    return make_app(tmp_path / "sidebar.db", emulator.url, SYNC_PACE_SECONDS=0, WECOM_RATE_LIMIT_PAUSE=0.2)


def fetch(app, **options):
    """One run over the last DAYS days."""
    with app.app_context():
        return fetch_activity(wecom(), today=china_today(), days=DAYS, pace=options.pop("pace", 0), **options)


def rows(app):
    """(userid, day) -> stored advisor row as a dict, and the owner-day keys."""
    with app.app_context():
        advisors = {(r.userid, r.day): {"new": r.new_contact_cnt, "chats": r.chat_cnt}
                    for r in db.session.scalars(select(AdvisorActivity))}
        owners = {(r.owner, r.day): r.member_total for r in db.session.scalars(select(GroupActivity))}
    return advisors, owners


def follow_users(world):
    """The seed's members with customer contact."""
    return [s["userid"] for s in world["staff"] if s["customer_contact"]]


def wanted_days():
    """The DAYS China days before today, oldest first."""
    today = china_today()
    return [today - timedelta(days=n) for n in range(DAYS, 0, -1)]


def test_each_advisor_is_asked_alone_and_new_contacts_are_the_worlds_adds(stats_app, emulator, world):
    calls(emulator, BEHAVIOR)
    fetch(stats_app)
    asked = calls(emulator, BEHAVIOR)
    assert sorted(c["params"]["userid"] for c in asked) == sorted([u] for u in follow_users(world))
    advisors, owners = rows(stats_app)
    days = wanted_days()
    assert set(advisors) == {(u, d) for u in follow_users(world) for d in days}
    assert set(owners) == {(u, d) for u in follow_users(world) for d in days}
    for (userid, day), row in advisors.items():
        added = sum(1 for f in world["follows"] if f["userid"] == userid
                    and datetime.fromtimestamp(f["createtime"], CHINA).date() == day)
        assert row["new"] == added, (userid, day)
    for (owner, day), member_total in owners.items():
        end = epoch(day) + 86400
        members = sum(1 for g in world["groups"] if g["owner"] == owner and g["create_time"] < end
                      for m in g["members"] if m["join_time"] < end)
        assert member_total == members, (owner, day)


def test_a_stopped_run_is_continued_without_duplicates_and_stored_days_are_not_asked_again(stats_app, emulator, world):
    fault(emulator, errcode=60011, path=BEHAVIOR, after=3)  # no privilege, from the fourth advisor on
    with pytest.raises(WeComError):
        fetch(stats_app)
    stopped, _ = rows(stats_app)
    assert len(stopped) == 3 * DAYS
    requests.delete(f"{emulator.url}/_admin/faults", timeout=5)
    calls(emulator, BEHAVIOR)
    fetch(stats_app)
    again = calls(emulator, BEHAVIOR)
    asked = {c["params"]["userid"][0] for c in again}
    assert asked == set(follow_users(world)) - {userid for userid, _ in stopped}, "the stored advisors are skipped"
    advisors, _ = rows(stats_app)
    assert len(advisors) == len(follow_users(world)) * DAYS
    with stats_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AdvisorActivity)) == len(advisors)
    result = fetch(stats_app)
    assert (result.advisor_days, result.owner_days, result.calls) == (0, 0, 1), "only the member list is asked"
    assert calls(emulator, BEHAVIOR) == [] and calls(emulator, GROUPS) == []


def test_a_gap_is_fetched_alone_and_yesterday_is_the_newest_day(stats_app, emulator, world):
    fetch(stats_app)
    middle = wanted_days()[2]
    with stats_app.app_context():
        db.session.execute(AdvisorActivity.__table__.delete().where(AdvisorActivity.day == middle))
        db.session.commit()
    calls(emulator, BEHAVIOR)
    fetch(stats_app)
    asked = calls(emulator, BEHAVIOR)
    assert {(c["params"]["start_time"], c["params"]["end_time"]) for c in asked} == {(epoch(middle), epoch(middle))}
    assert len(asked) == len(follow_users(world))
    assert max(day for _, day in rows(stats_app)[0]) == china_today() - timedelta(days=1)


def test_rate_limits_are_waited_out(stats_app, emulator, world):
    fault(emulator, errcode=45009, path=BEHAVIOR, count=1, after=2)
    fetch(stats_app)
    assert len(rows(stats_app)[0]) == len(follow_users(world)) * DAYS


def test_calls_are_paced(stats_app, emulator):
    calls(emulator, BEHAVIOR)
    fetch(stats_app, pace=0.05)
    log = requests.get(f"{emulator.url}/_admin/calls", timeout=5).json()["calls"]
    times = [c["at"] for c in log if c["path"] in (BEHAVIOR, GROUPS)]
    assert len(times) > 10
    assert (times[-1] - times[0]) / (len(times) - 1) >= 0.045  # the machine's load only adds to the spacing


@pytest.mark.parametrize("start_days_ago,span_days,errcode", [(31, 30, 40058), (181, 0, 40058), (30, 29, 0)])
def test_the_emulator_keeps_wecoms_span_and_age_rules(stats_app, start_days_ago, span_days, errcode):
    first = china_today() - timedelta(days=start_days_ago)
    with stats_app.app_context():
        try:
            answer = wecom().get_user_behavior_data(["zhangwei"], epoch(first), epoch(first + timedelta(days=span_days)))
        except WeComError as error:
            assert error.errcode == errcode
        else:
            assert errcode == 0 and len(answer) == span_days + 1


def test_several_userids_or_a_department_give_one_aggregate(stats_app, world):
    day = china_today() - timedelta(days=2)
    with stats_app.app_context():
        alone = [wecom().get_user_behavior_data([u], epoch(day), epoch(day))[0] for u in ("zhangwei", "lina")]
        together = wecom().get_user_behavior_data(["zhangwei", "lina"], epoch(day), epoch(day))
        pudong = [s["userid"] for s in world["staff"] if s["department"] == [3]]
        singles = [wecom().get_user_behavior_data([u], epoch(day), epoch(day))[0] for u in pudong]
        branch = wecom().call("POST", "/cgi-bin/externalcontact/get_user_behavior_data",
                              json={"partyid": [3], "start_time": epoch(day), "end_time": epoch(day)})["behavior_data"]
    assert len(together) == 1 and len(branch) == 1
    assert together[0]["chat_cnt"] == sum(a["chat_cnt"] for a in alone)
    assert branch[0]["message_cnt"] == sum(a["message_cnt"] for a in singles)
