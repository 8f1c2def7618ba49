"""Client insight with the demo's trading data: every seeded state, masking, access rules, notes."""
import re
from datetime import date, timedelta

import pytest

from helpers import advisors, csrf_token, login
from sidebar.demo_data import demo_profiles
from sidebar.extensions import db
from sidebar.models import STAGES, ClientView, china_today
from sidebar.sync.profiles import import_profiles

TODAY = china_today()


def shown(iso_day):
    """How the pages write a day: 05-28 this year, 2025-05-28 (the year may wrap) in any other."""
    return iso_day[5:] if iso_day[:4] == str(TODAY.year) else f"{iso_day[:4]}-<wbr>{iso_day[5:]}"


@pytest.fixture
def seeded(app, world):
    """The demo's profiles imported; returns the current row of each account."""
    rows = demo_profiles(world, TODAY)
    with app.app_context():
        result = import_profiles(rows, today=TODAY)
        db.session.commit()
    assert result.rejected == []
    current = {}
    for row in rows:
        current[row["account_id"]] = row
    return list(current.values())


def profile_of(world, rows, external_userid):
    """The current import row that belongs to a contact, found as the spec says: unionid, then mobile."""
    contact = next(c for c in world["contacts"] if c["external_userid"] == external_userid)
    mobiles = {m for f in world["follows"] if f["external_userid"] == external_userid for m in f["remark_mobiles"]}
    by_unionid = [r for r in rows if contact["unionid"] and r["unionid"] == contact["unionid"]]
    return (by_unionid or [r for r in rows if r["mobile"] in mobiles] or [None])[0]


def cases(world, rows, predicate):
    """(follower, external_userid, row) of contacts whose profile row matches predicate."""
    found = []
    for follow in world["follows"]:
        row = profile_of(world, rows, follow["external_userid"])
        if predicate(row):
            found.append((follow["userid"], follow["external_userid"], row))
    assert found, "the demo seed must contain this state"
    return found


def open_panel(app, userid, external_userid):
    """The client panel as userid sees it."""
    client = app.test_client()
    login(client, userid)
    response = client.get(f"/sidebar/contacts/{external_userid}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def step_states(html):
    """stage -> done/current/todo as the step bar shows it."""
    return dict((stage, state) for state, stage in re.findall(r'class="step (\w+)" data-stage="(\w+)"', html))


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_shows_on_the_step_bar(app, world, seeded, stage):
    userid, external_userid, row = cases(world, seeded, lambda r: r and r["stage"] == stage)[0]
    states = step_states(open_panel(app, userid, external_userid))
    reached = STAGES.index(stage)
    assert states["added"] == "done"
    assert [states[s] for s in STAGES] == ["done"] * reached + ["current"] + ["todo"] * (len(STAGES) - reached - 1)


def test_a_contact_without_profile_is_not_opened_and_starts_at_added(app, world, seeded):
    userid, external_userid, _ = cases(world, seeded, lambda r: r is None)[0]
    html = open_panel(app, userid, external_userid)
    assert "未注册 · 未匹配到交易账户" in html
    assert step_states(html)["added"] == "current"
    assert "总资产" not in html


def test_stage_dates_are_shown(app, world, seeded):
    userid, external_userid, row = cases(world, seeded, lambda r: r and r["stage"] == "traded")[0]
    html = open_panel(app, userid, external_userid)
    for stage, day in row["stage_dates"].items():
        shown_day = re.search(rf'data-stage="{stage}">.*?<span class="step-date">(.*?)</span>', html, re.S).group(1)
        assert shown_day == shown(day), stage


def test_dormant_badge_follows_the_180_day_rule(app, world, seeded):
    def dormant(r):
        if not r or r["stage"] not in ("funded", "traded"):
            return False
        last = r["last_trade_date"] or r["stage_dates"]["funded"]
        return (TODAY - date.fromisoformat(last)).days > 180
    sleeper = cases(world, seeded, dormant)[0]
    active = cases(world, seeded, lambda r: r and r["stage"] == "traded" and not dormant(r))[0]
    assert '<span class="badge dormant">沉睡</span>' in open_panel(app, sleeper[0], sleeper[1])
    assert "badge dormant" not in open_panel(app, active[0], active[1])


def test_assets_trend_and_mix(app, world, seeded):
    userid, external_userid, row = cases(world, seeded, lambda r: r and r["stage"] == "traded"
                                         and r["total_assets"] >= 10000)[0]
    html = open_panel(app, userid, external_userid)
    assert f"<strong>{row['total_assets'] / 10000:,.2f}万</strong>" in html
    assert f"总资产 · {shown(row['assets_as_of'])}" in html
    points = re.search(r'<polyline class="trend-line" points="([^"]+)"', html).group(1).split()
    history_days = sum(1 for r in seeded_history(world, row))
    assert len(points) == history_days > 2
    for key, label in (("stock", "股票"), ("fund", "基金"), ("wealth", "理财"), ("cash", "现金")):
        share = row["asset_mix"].get(key, 0)
        assert (f"{label} {share * 100:.1f}%" in html) == (share > 0)


def seeded_history(world, row):
    """The demo's daily rows of one account within the trend window."""
    return [r for r in demo_profiles(world, TODAY) if r["account_id"] == row["account_id"]
            and date.fromisoformat(r["assets_as_of"]) > TODAY - timedelta(days=90)]


@pytest.mark.parametrize("status", ["valid", "expired", "missing"])
def test_risk_class_and_its_status(app, world, seeded, status):
    def matches(r):
        if not r or r["stage"] in ("registered", "applying"):
            return False
        if r["risk_level"] is None:
            return status == "missing"
        expired = date.fromisoformat(r["risk_expires"]) < TODAY
        return status == ("expired" if expired else "valid")
    userid, external_userid, row = cases(world, seeded, matches)[0]
    html = open_panel(app, userid, external_userid)
    effective = re.search(r'data-risk="([^"]+)"', html).group(1)
    if status == "valid":
        assert effective == row["risk_level"] and f"有效期至 {shown(row['risk_expires'])}" in html
    elif status == "expired":
        assert effective == "unknown" and f"{row['risk_level']} 已过期 {shown(row['risk_expires'])}" in html
        assert "无有效测评" in html and "仅可发送通用物料" in html
    else:
        assert effective == "unknown" and "无有效测评" in html and "未测评" in html and "仅可发送通用物料" in html


def test_account_and_mobile_numbers_are_masked(app, world, seeded):
    userid, external_userid, row = cases(world, seeded, lambda r: r and r["stage"] == "funded")[0]
    html = open_panel(app, userid, external_userid)
    assert row["account_id"] not in html
    assert f"****{row['account_id'][-4:]}" in html
    assert row["mobile"] not in html
    assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", html), "no whole mobile number anywhere"
    assert not re.search(r"\d{12}", html), "no whole account number anywhere"


def test_profile_tags_are_shown(app, world, seeded):
    userid, external_userid, row = cases(world, seeded, lambda r: r and r["tags"])[0]
    html = open_panel(app, userid, external_userid)
    for tag in row["tags"]:
        assert f'<li class="tag profile">{tag}</li>' in html


def test_each_view_is_logged_without_the_data(app, world, seeded):
    userid, external_userid, _ = cases(world, seeded, lambda r: r is not None)[0]
    open_panel(app, userid, external_userid)
    open_panel(app, userid, external_userid)
    with app.app_context():
        views = db.session.scalars(db.select(ClientView)).all()
    assert [(v.userid, v.external_userid) for v in views] == [(userid, external_userid)] * 2
    assert set(ClientView.__table__.columns.keys()) == {"id", "userid", "external_userid", "viewed_at"}


def test_colleagues_who_also_follow_are_named(app, world, seeded):
    external_userid, (first, second) = next((c, who) for c, who in _followers(world).items() if len(who) == 2)
    html = open_panel(app, first, external_userid)
    name = next(s["name"] for s in world["staff"] if s["userid"] == second)
    assert re.search(rf'<dd class="colleagues">[^<]*{name}', html)


def test_a_manager_reads_the_branch_clients_only(app, world, seeded):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["roles", "grant", "zhouqiang", "manager"]).exit_code == 0
    departments = {s["userid"]: s["department"] for s in world["staff"]}
    followers = _followers(world)
    in_branch = next(c for c, who in followers.items() if all(departments[u] == [3] for u in who))
    outside = next(c for c, who in followers.items() if all(departments[u] == [4] for u in who))
    manager = app.test_client()
    login(manager, "zhouqiang")
    page = manager.get(f"/sidebar/contacts/{in_branch}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "负责人只读" in html and "note-form" not in html
    assert manager.get(f"/sidebar/contacts/{outside}").status_code == 404
    refused = manager.post(f"/sidebar/contacts/{in_branch}/notes", data={"body": "x"},
                           headers={"X-CSRFToken": csrf_token(manager), "HX-Request": "true"})
    assert refused.status_code == 403


def test_advisor_without_the_role_does_not_see_colleagues_clients(app, world, seeded):
    lina_only = next(c for c, who in _followers(world).items() if who == ["lina"])
    client = app.test_client()
    login(client, "zhangwei")
    assert client.get(f"/sidebar/contacts/{lina_only}").status_code == 404


def test_notes_are_added_with_htmx_and_shared_with_colleagues(app, world, seeded):
    external_userid, (first, second) = next(
        (c, who) for c, who in _followers(world).items() if len(who) == 2)
    advisor = app.test_client()
    login(advisor, first)
    token = csrf_token(advisor)
    added = advisor.post(f"/sidebar/contacts/{external_userid}/notes", data={"body": "约了周五面谈，带上基金定投方案"},
                         headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert added.status_code == 200
    assert "约了周五面谈" in added.get_data(as_text=True) and "<html" not in added.get_data(as_text=True)
    empty = advisor.post(f"/sidebar/contacts/{external_userid}/notes", data={"body": "   "},
                         headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert empty.status_code == 422 and "请输入跟进内容" in empty.get_data(as_text=True)
    no_token = advisor.post(f"/sidebar/contacts/{external_userid}/notes", data={"body": "x"},
                            headers={"HX-Request": "true"})
    assert no_token.status_code == 400
    colleague_view = open_panel(app, second, external_userid)
    author = next(s["name"] for s in world["staff"] if s["userid"] == first)
    assert "约了周五面谈" in colleague_view and author in colleague_view


def test_notes_on_someone_elses_client_are_refused(app, world, seeded):
    client = app.test_client()
    login(client, "zhangwei")
    lina_only = next(c for c, who in _followers(world).items() if who == ["lina"])
    refused = client.post(f"/sidebar/contacts/{lina_only}/notes", data={"body": "x"},
                          headers={"X-CSRFToken": csrf_token(client), "HX-Request": "true"})
    assert refused.status_code == 404


def test_a_refused_note_shows_nothing_of_someone_elses_client(app, world, seeded):
    lina_only = next(c for c, who in _followers(world).items() if who == ["lina"])
    lina = app.test_client()
    login(lina, "lina")
    lina.post(f"/sidebar/contacts/{lina_only}/notes", data={"body": "客户说下周转入二十万"},
              headers={"X-CSRFToken": csrf_token(lina), "HX-Request": "true"})
    outsider = app.test_client()
    login(outsider, "zhangwei")
    token = csrf_token(outsider)
    for body in ("", "   ", "长" * 1001):  # each invalid: the refusal must not come with her notes
        refused = outsider.post(f"/sidebar/contacts/{lina_only}/notes", data={"body": body},
                                headers={"X-CSRFToken": token, "HX-Request": "true"})
        assert refused.status_code == 404, repr(body[:5])
        assert "二十万" not in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(db.select(ClientView.userid).where(ClientView.userid == "zhangwei")).all() == []


def test_a_note_refused_as_invalid_shows_the_notes_as_a_logged_view(app, world, seeded):
    userid, external_userid = next((who[0], c) for c, who in _followers(world).items() if len(who) == 1)
    advisor = app.test_client()
    login(advisor, userid)
    invalid = advisor.post(f"/sidebar/contacts/{external_userid}/notes", data={"body": ""},
                           headers={"X-CSRFToken": csrf_token(advisor), "HX-Request": "true"})
    assert invalid.status_code == 422 and invalid.headers["Cache-Control"] == "no-store"
    with app.app_context():
        views = db.session.scalars(db.select(ClientView)).all()
    assert [(v.userid, v.external_userid) for v in views] == [(userid, external_userid)]


def test_a_manager_cannot_post_notes_even_invalid_ones(app, world, seeded):
    assert app.test_cli_runner().invoke(args=["roles", "grant", "zhouqiang", "manager"]).exit_code == 0
    departments = {s["userid"]: s["department"] for s in world["staff"]}
    in_branch = next(c for c, who in _followers(world).items() if all(departments[u] == [3] for u in who))
    manager = app.test_client()
    login(manager, "zhouqiang")
    refused = manager.post(f"/sidebar/contacts/{in_branch}/notes", data={"body": ""},
                           headers={"X-CSRFToken": csrf_token(manager), "HX-Request": "true"})
    assert refused.status_code == 403


def _followers(world):
    """external_userid -> list of advisors following them, in seed order."""
    result = {}
    for follow in world["follows"]:
        result.setdefault(follow["external_userid"], []).append(follow["userid"])
    return result
