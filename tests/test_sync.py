"""Full sync against the emulator: 20,000 contacts, idempotence, ended relations, restart, rate limits."""
import math

import pytest
import requests
from sqlalchemy import func, select, text

from helpers import LiveServer, login, make_app
from sidebar.emulator import create_emulator
from sidebar.extensions import db
from sidebar.models import ExternalContact, Follow, GroupChat, GroupMember, SyncRun

BATCH = "/cgi-bin/externalcontact/batch/get_by_user"
TABLES = ("staff", "external_contact", "follow", "contact_mobile", "group_chat", "group_member", "corp_tag")


def run_sync(app, *args):
    """`flask sync ARGS` through the CLI runner; returns the result."""
    return app.test_cli_runner().invoke(args=["sync", *args])


def dump(app):
    """Every row of the tables the sync writes, fetched_at included."""
    with app.app_context():
        return {table: db.session.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2")).all() for table in TABLES}


def local_relations(app):
    """(userid, external_userid) of the active local follows."""
    with app.app_context():
        return set(db.session.execute(select(Follow.userid, Follow.external_userid)
                                      .where(Follow.ended_at.is_(None))).all())


def calls(emulator, path=None):
    """The emulator's call log entries (on one path)."""
    log = requests.get(f"{emulator.url}/_admin/calls", timeout=5).json()["calls"]
    return [c for c in log if path is None or c["path"] == path]


def fault(emulator, **body):
    """Flip an emulator fault switch."""
    requests.post(f"{emulator.url}/_admin/faults", json=body, timeout=5).raise_for_status()


@pytest.fixture(scope="module")
def big_world():
    """An emulator whose advisors have 20,000 more contacts (generated, in about a second)."""
    emulator = create_emulator(synthetic_contacts=20_000)
    server = LiveServer(emulator)
    server.emulator = emulator
    yield server
    server.stop()


@pytest.fixture
def quiet_app(tmp_path, own_emulator):
    """An app on own_emulator without callbacks: only the sync tells it about changes."""
    return make_app(tmp_path / "sidebar.db", own_emulator.url, SYNC_PACE_SECONDS=0, WECOM_RATE_LIMIT_PAUSE=0.2)


def test_twenty_thousand_contacts_sync_and_a_second_run_changes_nothing(tmp_path, big_world):
    world = big_world.emulator.world
    app = make_app(tmp_path / "sidebar.db", big_world.url, SYNC_PACE_SECONDS=0)
    first = run_sync(app)
    assert first.exit_code == 0, first.output
    for label in ("员工", "客户 (contacts", "客户群 (groups"):
        assert label in first.output
    assert local_relations(app) == set(world.follows)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ExternalContact)) == len(world.contacts())
        assert db.session.scalar(select(func.count()).select_from(GroupChat)) == len(world.groups)
    pages = sum(math.ceil(len(world.contacts_of(u)) / 100) for u in world.follow_users() if world.contacts_of(u))
    empty = sum(1 for u in world.follow_users() if not world.contacts_of(u))
    assert len(calls(big_world, BATCH)) == pages + empty  # 100 a page, as few calls as possible

    before = dump(app)
    second = run_sync(app)
    assert second.exit_code == 0, second.output
    assert "nothing changed" in second.output
    assert dump(app) == before  # not one value written, fetched_at included


def test_what_wecom_no_longer_has_is_ended_not_deleted(quiet_app, own_emulator):
    world = own_emulator.emulator.world
    assert run_sync(quiet_app).exit_code == 0
    userid, external_userid = next(iter(world.follows))
    world.remove_follow(userid, external_userid)
    group = next(iter(world.groups.values()))
    leaver = next(m.userid for m in group.members if m.type == 2)
    world.remove_group_member(group.chat_id, leaver)
    dismissed = list(world.groups)[1]
    world.dismiss_group(dismissed)
    world.edit_follow(*list(world.follows)[1], remark="同步改的备注")

    result = run_sync(quiet_app)
    assert result.exit_code == 0, result.output
    assert "ended 1" in result.output and "dismissed 1" in result.output
    assert local_relations(quiet_app) == set(world.follows)
    with quiet_app.app_context():
        ended = db.session.scalar(select(Follow).where(Follow.userid == userid,
                                                       Follow.external_userid == external_userid))
        assert ended is not None and ended.ended_at is not None
        member = db.session.scalar(select(GroupMember).where(GroupMember.chat_id == group.chat_id,
                                                             GroupMember.member_id == leaver))
        assert member.left_at is not None
        assert db.session.get(GroupChat, dismissed).dismissed_at is not None
        assert db.session.scalar(select(Follow.remark).where(
            Follow.userid == list(world.follows)[1][0], Follow.external_userid == list(world.follows)[1][1])) \
            == "同步改的备注"


def test_an_interrupted_run_resumes_where_it_stopped(quiet_app, own_emulator):
    world = own_emulator.emulator.world
    fault(own_emulator, errcode=48002, path=BATCH, count=1, after=2)
    stopped = run_sync(quiet_app)
    assert stopped.exit_code == 1
    assert "Run it again to resume" in stopped.output
    with quiet_app.app_context():
        run = db.session.scalar(select(SyncRun))
        assert run.finished_at is None and run.phase == "contacts"
        cursor = dict(run.cursor)
    requests.delete(f"{own_emulator.url}/_admin/calls", timeout=5)
    resumed = run_sync(quiet_app)
    assert resumed.exit_code == 0, resumed.output
    assert "resumed run #1" in resumed.output
    first = calls(own_emulator, BATCH)[0]["params"]
    assert first["userid_list"] == [cursor["users"][cursor["user"]]] and first["cursor"] == cursor["page"]
    assert local_relations(quiet_app) == set(world.follows)
    assert "nothing changed" in run_sync(quiet_app).output


def test_rate_limits_are_waited_out_and_the_run_finishes(quiet_app, own_emulator):
    fault(own_emulator, errcode=45009, path=BATCH, count=2, after=1)
    result = run_sync(quiet_app)
    assert result.exit_code == 0, result.output
    assert result.output.count("rate limit (45009)") == 2
    assert local_relations(quiet_app) == set(own_emulator.emulator.world.follows)


def test_calls_are_paced(tmp_path, own_emulator):
    app = make_app(tmp_path / "sidebar.db", own_emulator.url, SYNC_PACE_SECONDS=0.05)
    assert run_sync(app).exit_code == 0
    times = [c["at"] for c in calls(own_emulator) if c["path"] != "/cgi-bin/gettoken"]
    assert len(times) > 10
    # arrival times jitter with the machine's load; their average spacing cannot beat the pace
    assert (times[-1] - times[0]) / (len(times) - 1) >= 0.045


def test_since_skips_groups_fetched_after_it(quiet_app, own_emulator):
    world = own_emulator.emulator.world
    assert run_sync(quiet_app).exit_code == 0
    group = next(iter(world.groups.values()))
    world.rename_group(group.chat_id, "改名但没有回调")
    requests.delete(f"{own_emulator.url}/_admin/calls", timeout=5)
    assert run_sync(quiet_app, "--since", "1h").exit_code == 0
    assert calls(own_emulator, "/cgi-bin/externalcontact/groupchat/get") == []
    assert run_sync(quiet_app).exit_code == 0
    with quiet_app.app_context():
        assert db.session.get(GroupChat, group.chat_id).name == "改名但没有回调"


def test_a_bad_since_is_refused(quiet_app):
    result = run_sync(quiet_app, "--since", "yesterday")
    assert result.exit_code == 2
    assert "ISO date" in result.output


def test_a_contact_fetched_by_a_chat_open_is_left_alone_by_the_sync(quiet_app, own_emulator):
    """The two paths (externalcontact/get, batch/get_by_user) store the same thing: personal tags stay."""
    world = own_emulator.emulator.world
    relation = next(f for f in world.follows.values() if f.personal_tags)
    client = quiet_app.test_client()
    login(client, relation.userid)
    assert client.get(f"/sidebar/contacts/{relation.external_userid}").status_code == 200
    before = dump(quiet_app)["follow"]
    result = run_sync(quiet_app)
    assert result.exit_code == 0
    after = {row[0]: row for row in dump(quiet_app)["follow"]}
    assert all(after[row[0]] == row for row in before)
    assert relation.personal_tags[0][1] in client.get(f"/sidebar/contacts/{relation.external_userid}").get_data(
        as_text=True)
