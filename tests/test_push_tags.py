"""Profile tags pushed back to WeCom: exactly the differences, local state kept true, after imports too."""
import json
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from helpers import LiveServer, eventually, login, make_app, run_worker
from sidebar.extensions import db
from sidebar.models import Follow, china_today
from sidebar.sync.profiles import import_profiles

MARK = "/cgi-bin/externalcontact/mark_tag"
ADD = "/cgi-bin/externalcontact/add_corp_tag"
TOKEN = "i" * 32
TODAY = china_today()


def profile(account_id, contact, **fields):
    """A profile row linked to a contact by its unionid."""
    row = {"account_id": account_id, "unionid": contact.unionid, "name": contact.name, "stage": "funded",
           "risk_level": "C3", "risk_expires": (TODAY + timedelta(days=300)).isoformat(), "tags": []}
    row.update(fields)
    return row


def wecom_log(emulator, path=None):
    """The emulator's calls since the last clear (on one path)."""
    log = requests.get(f"{emulator.url}/_admin/calls", timeout=5).json()["calls"]
    return [c for c in log if path is None or c["path"] == path]


def clear_log(emulator):
    """Forget the emulator's calls."""
    requests.delete(f"{emulator.url}/_admin/calls", timeout=5).raise_for_status()


def push(app):
    """`flask push-tags`."""
    return app.test_cli_runner().invoke(args=["push-tags"])


def profile_tag_ids(world):
    """name -> id of the tags in WeCom's 客户画像 group."""
    return {t.name: t.id for g in world.tag_groups.values() if g.name == "客户画像" for t in g.tags}


@pytest.fixture
def scene(tmp_path, own_emulator):
    """A synced app and three linked clients: A, B, and C whom two advisors follow."""
    world = own_emulator.emulator.world
    app = make_app(tmp_path / "sidebar.db", own_emulator.url, SYNC_PACE_SECONDS=0, WECOM_RATE_LIMIT_PAUSE=0.1)
    assert app.test_cli_runner().invoke(args=["sync"]).exit_code == 0
    wechat = [c for c in world.contacts() if c.unionid]
    shared = next(c for c in wechat if len(world.followers_of(c.external_userid)) == 2)
    single = [c for c in wechat if len(world.followers_of(c.external_userid)) == 1][:2]
    contacts = {"A": single[0], "B": single[1], "C": shared}
    rows = [profile("880000000001", contacts["A"], tags=["高净值", "偏好ETF"]),
            profile("880000000002", contacts["B"], stage="opened", risk_level=None, risk_expires=None),
            profile("880000000003", contacts["C"], stage="traded", risk_level="C4",
                    risk_expires=(TODAY - timedelta(days=1)).isoformat(), tags=["高净值"])]
    with app.app_context():
        assert import_profiles(rows).rejected == []
    clear_log(own_emulator)
    return app, world, contacts, rows


EXPECTED = {"A": {"高净值", "偏好ETF", "阶段:已入金", "风险:C3"}, "B": {"阶段:已开户"},
            "C": {"高净值", "阶段:已交易", "风险:已过期"}}


def test_push_sends_exactly_the_differences_and_keeps_other_tags(scene, own_emulator):
    app, world, contacts, _ = scene
    other_tags = {key: list(f.tag_ids) for key, f in world.follows.items()}
    result = push(app)
    assert result.exit_code == 0, result.output
    assert "marked: 4" in result.output
    ids = profile_tag_ids(world)
    assert set(ids) == set().union(*EXPECTED.values())  # the missing tags were created ...
    assert len(wecom_log(own_emulator, ADD)) == 1  # ... in one call
    marks = wecom_log(own_emulator, MARK)
    expected = {(f.userid, c.external_userid): {ids[n] for n in EXPECTED[key]}
                for key, c in contacts.items() for f in world.followers_of(c.external_userid)}
    assert {(m["params"]["userid"], m["params"]["external_userid"]): set(m["params"]["add_tag"]) for m in marks} \
        == expected
    assert len(marks) == 4 and all(m["params"]["remove_tag"] == [] for m in marks)
    for key, relation in world.follows.items():  # other corp tags untouched, profile tags added
        added = expected.get(key, set())
        assert relation.tag_ids == other_tags[key] + [t for t in relation.tag_ids if t in added]
        assert set(relation.tag_ids) - set(other_tags[key]) == added

    clear_log(own_emulator)
    again = push(app)
    assert again.exit_code == 0 and "marked: 0" in again.output
    assert wecom_log(own_emulator) == []  # nothing differs: WeCom is not even asked


def test_a_changed_profile_sends_only_what_changed(scene, own_emulator):
    app, world, contacts, rows = scene
    assert push(app).exit_code == 0
    ids = profile_tag_ids(world)
    clear_log(own_emulator)
    changed = {**rows[0], "tags": ["高净值"], "stage": "traded"}
    with app.app_context():
        import_profiles([changed])
        db.session.commit()
    assert push(app).exit_code == 0
    assert wecom_log(own_emulator, ADD) == []  # 阶段:已交易 exists already (client C)
    marks = wecom_log(own_emulator, MARK)
    assert len(marks) == 1
    params = marks[0]["params"]
    assert params["external_userid"] == contacts["A"].external_userid
    assert params["add_tag"] == [ids["阶段:已交易"]]
    assert set(params["remove_tag"]) == {ids["偏好ETF"], ids["阶段:已入金"]}


def test_local_tags_follow_the_push_and_the_panel_does_not_repeat_them(scene):
    app, world, contacts, _ = scene
    assert push(app).exit_code == 0
    contact = contacts["A"]
    userid = world.followers_of(contact.external_userid)[0].userid
    with app.app_context():
        follow = db.session.scalar(select(Follow).where(Follow.userid == userid,
                                                        Follow.external_userid == contact.external_userid))
        local = {t["tag_name"] for t in follow.tags if t["group_name"] == "客户画像"}
    assert local == EXPECTED["A"]
    corp = {t["tag_name"] for t in follow.tags if t["type"] == 1}
    assert corp == {world.tag(i)[1].name for i in world.follow(userid, contact.external_userid).tag_ids}
    client = app.test_client()
    login(client, userid)
    html = client.get(f"/sidebar/contacts/{contact.external_userid}").get_data(as_text=True)
    # the mirror repeats what the panel already shows as the step bar and the risk class
    assert "阶段:" not in html and "风险:C3<" not in html
    assert 'class="step current" data-stage="funded"' in html and 'data-risk="C3"' in html
    for name in corp - local:
        assert f">{name}</li>" in html


def test_an_interrupted_push_resumes_without_repeating_itself(scene, own_emulator):
    app, world, contacts, _ = scene
    requests.post(f"{own_emulator.url}/_admin/faults", timeout=5,
                  json={"errcode": 45009, "path": MARK, "after": 1, "count": 11})
    stopped = push(app)
    assert stopped.exit_code == 1 and "Run it again to resume" in stopped.output
    done = {(m["params"]["userid"], m["params"]["external_userid"]) for m in wecom_log(own_emulator, MARK)[:1]}
    clear_log(own_emulator)
    resumed = push(app)
    assert resumed.exit_code == 0, resumed.output
    again = {(m["params"]["userid"], m["params"]["external_userid"]) for m in wecom_log(own_emulator, MARK)}
    assert len(again) == 3 and not again & done


@pytest.fixture
def importer(tmp_path, own_emulator):
    """The app served over HTTP with the import API on, synced with own_emulator."""
    app = make_app(tmp_path / "sidebar.db", own_emulator.url, SYNC_PACE_SECONDS=0, SIDEBAR_IMPORT_TOKEN=TOKEN)
    assert app.test_cli_runner().invoke(args=["sync"]).exit_code == 0
    server = LiveServer(app)
    server.flask_app = app
    yield server
    server.stop()


def test_the_import_api_has_the_worker_push_the_imported_clients_tags(importer, own_emulator):
    world = own_emulator.emulator.world
    contact = next(c for c in world.contacts() if c.unionid and len(world.followers_of(c.external_userid)) == 1)
    clear_log(own_emulator)
    answer = requests.post(f"{importer.url}/api/v1/client-profiles", timeout=10,
                           headers={"Authorization": f"Bearer {TOKEN}"},
                           json=[profile("880000000009", contact, tags=["新客"])])
    assert answer.json() == {"accepted": 1, "rejected": []}
    assert wecom_log(own_emulator) == []  # the request only enqueued the push ...
    assert importer.flask_app.extensions["jobs"].sizes() == (1, 0)
    run_worker(importer.flask_app)  # ... which a worker does
    marks = eventually(lambda: wecom_log(own_emulator, MARK))
    assert [m["params"]["external_userid"] for m in marks] == [contact.external_userid]
    relation = world.followers_of(contact.external_userid)[0]
    assert eventually(lambda: {world.tag(i)[1].name for i in relation.tag_ids} >= {"新客", "阶段:已入金", "风险:C3"})


def test_the_import_command_pushes_too(scene, own_emulator, tmp_path):
    app, world, contacts, rows = scene
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps([{**rows[1], "tags": ["小额"]}], ensure_ascii=False), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import-profiles", str(path)])
    assert result.exit_code == 0, result.output
    assert "profile tags: 1 relations updated" in result.output
    assert [m["params"]["external_userid"] for m in wecom_log(own_emulator, MARK)] == [contacts["B"].external_userid]
    assert "accepted: 1, rejected: 0" in result.output  # the import's own summary is unchanged
