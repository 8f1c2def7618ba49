"""/manage/activity: each figure computed here from the seeded rows, the department scope of each manager, roles."""
import re
from datetime import timedelta

import pytest

from helpers import signed_in
from dept_helpers import REGION_MANAGER, ROOT_MANAGER, store_org
from sidebar.extensions import db
from sidebar.models import AdvisorActivity, ClientProfile, Follow, GroupActivity, china_today
from sop_helpers import add_client

UNTIL = china_today() - timedelta(days=1)
SINCE = UNTIL - timedelta(days=6)
# userid, days before UNTIL, chats, messages, reply %, first reply minutes, new contacts, lost
DAYS = [("zhangwei", 0, 10, 40, 90.0, 3.0, 2, 0), ("zhangwei", 1, 30, 100, 50.0, 9.0, 1, 1),
        ("zhangwei", 2, 0, 0, None, None, 0, 0),  # a day without chats: no rate, no time
        ("zhangwei", 9, 99, 999, 10.0, 60.0, 9, 9),  # before the period
        ("wangfang", 0, 5, 12, 100.0, 1.0, 0, 0), ("wangfang", 3, 15, 30, 60.0, 5.0, 3, 2),
        ("songyu", 1, 8, 20, 75.0, 12.0, 1, 0)]
GROUP_MESSAGES = [("zhangwei", 0, 70), ("zhangwei", 8, 500), ("wangfang", 2, 33)]
SCOPES = {"zhouqiang": {"zhangwei"}, "hemin": {"wangfang"}, REGION_MANAGER: {"zhangwei", "wangfang", "songyu"},
          ROOT_MANAGER: {"zhangwei", "wangfang", "songyu"}}
PUDONG, XUHUI = "上海分公司浦东营业部", "上海分公司徐汇营业部"


@pytest.fixture
def activity_app(library_app, world):
    """The tree, staff and managers; statistics rows and funded clients of 浦东 and 徐汇."""
    store_org(library_app, world)
    with library_app.app_context():
        for userid, back, chats, messages, rate, minutes, new, lost in DAYS:
            db.session.add(AdvisorActivity(userid=userid, day=UNTIL - timedelta(days=back), chat_cnt=chats,
                                           message_cnt=messages, reply_percentage=rate, avg_reply_time=minutes,
                                           negative_feedback_cnt=lost, new_apply_cnt=new, new_contact_cnt=new))
        for owner, back, messages in GROUP_MESSAGES:
            db.session.add(GroupActivity(owner=owner, day=UNTIL - timedelta(days=back), new_chat_cnt=0, chat_total=1,
                                         chat_has_msg=1, new_member_cnt=0, member_total=10, member_has_msg=3,
                                         msg_total=messages))
        add_client("wmtestpd000001", "zhangwei", stage="funded", branch=PUDONG)
        add_client("wmtestpd000002", "zhangwei", stage="traded", branch=PUDONG)
        add_client("wmtestpd000003", "zhangwei", stage="opened", branch=PUDONG)  # not funded: not counted
        add_client("wmtestxh000001", "wangfang", stage="funded", branch=XUHUI)
        add_client("wmtestxh000002", "wangfang", stage="funded", branch=XUHUI)
        db.session.add(ClientProfile(account_id="880000000091", stage="funded", branch=PUDONG))  # not on WeCom
        db.session.add(ClientProfile(account_id="880000000092", stage="traded", branch="总部直属"))
        db.session.flush()
        db.session.get(Follow, _follow_id("wangfang", "wmtestxh000002")).ended_at = UNTIL  # deleted: unreachable
        db.session.commit()
    return library_app


def _follow_id(userid, external_userid):
    """The id of a follow row."""
    return db.session.scalar(db.select(Follow.id).where(Follow.userid == userid,
                                                        Follow.external_userid == external_userid))


def page(app, userid, **query):
    """The page's HTML for userid (period SINCE..UNTIL unless given)."""
    query = {"since": SINCE.isoformat(), "until": UNTIL.isoformat(), **query}
    response = signed_in(app, userid).get("/manage/activity", query_string=query)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def figures_of(html, selector):
    """data-figure -> shown text inside the element starting with selector."""
    block = re.search(rf"{selector}(.*?)</(?:tr|ul)>", html, re.S).group(1)
    return dict(re.findall(r'data-figure="(\w+)">(?:<a [^>]*>)?([^<]*)<', block))


def expected(userids):
    """The figures the page should show for these advisors over SINCE..UNTIL, worked out from DAYS."""
    days = [d for d in DAYS if d[0] in userids and d[1] <= (UNTIL - SINCE).days]
    chats = sum(d[2] for d in days)
    rated = [d for d in days if d[2] and d[4] is not None]
    weight = sum(d[2] for d in rated)
    rate = sum(d[4] * d[2] for d in rated) / weight if weight else None
    minutes = sum(d[5] * d[2] for d in rated) / weight if weight else None
    return {"chats": str(chats), "messages": str(sum(d[3] for d in days)),
            "reply_rate": f"{rate:.1f}%" if rate is not None else "—",
            "first_reply": f"{minutes:.1f}" if minutes is not None else "—",
            "new_contacts": str(sum(d[6] for d in days)), "lost_contacts": str(sum(d[7] for d in days))}


@pytest.mark.parametrize("manager", sorted(SCOPES))
def test_each_manager_sees_the_figures_of_their_tree(activity_app, manager):
    html = page(activity_app, manager)
    shown = set(re.findall(r'<tr data-advisor="(\w+)"', html))
    assert shown == SCOPES[manager]
    for userid in shown:
        got = figures_of(html, f'<tr data-advisor="{userid}">')
        assert {k: got[k] for k in expected({userid})} == expected({userid}), userid
    assert {k: v for k, v in figures_of(html, 'data-row="total">').items()} == expected(SCOPES[manager])


def test_group_messages_and_funded_clients_on_wecom_per_advisor(activity_app):
    html = page(activity_app, ROOT_MANAGER)
    zhangwei = figures_of(html, '<tr data-advisor="zhangwei">')
    assert zhangwei["group_messages"] == "70", "the group day before the period is left out"
    assert zhangwei["funded_on_wecom"] == "2"
    wangfang = figures_of(html, '<tr data-advisor="wangfang">')
    assert (wangfang["group_messages"], wangfang["funded_on_wecom"]) == ("33", "1")


@pytest.mark.parametrize("manager,branches", [
    ("zhouqiang", {"浦东营业部": (3, 2)}), ("hemin", {"徐汇营业部": (2, 1)}),
    (REGION_MANAGER, {"浦东营业部": (3, 2), "徐汇营业部": (2, 1)}),
    (ROOT_MANAGER, {"浦东营业部": (3, 2), "徐汇营业部": (2, 1), "总部直属": (1, 0)})])
def test_wecom_coverage_is_funded_clients_reachable_over_all_funded(activity_app, manager, branches):
    html = page(activity_app, manager)
    rows = {name: figures_of(html, f'<tr data-branch="{name}">') for name in re.findall(r'<tr data-branch="([^"]+)"', html)}
    funded, reachable = sum(f for f, _ in branches.values()), sum(r for _, r in branches.values())
    assert set(rows) == set(branches) | {"合计"}
    for name, (f, r) in [*branches.items(), ("合计", (funded, reachable))]:
        assert rows[name] == {"funded": str(f), "reachable": str(r), "rate": f"{r / f * 100:.1f}%"}, name


def test_only_managers_see_it_and_a_bad_period_is_refused(activity_app):
    for userid in ("sunli", "zhaomin", "zhangwei"):
        assert signed_in(activity_app, userid).get("/manage/activity").status_code == 403, userid
    manager = signed_in(activity_app, "zhouqiang")
    assert manager.get(f"/manage/activity?since={UNTIL}&until={SINCE}").status_code == 400
    assert manager.get(f"/manage/activity?since={UNTIL - timedelta(days=200)}&until={UNTIL}").status_code == 400
    assert manager.get("/manage/activity?since=yesterday").status_code == 400
    default = manager.get("/manage/activity").get_data(as_text=True)
    assert f"{UNTIL - timedelta(days=29)} 至 {UNTIL}" in default, "the last 30 days up to yesterday"
    assert "<svg" in default and 'data-advisor="zhangwei"' in default


def test_an_advisors_figures_link_to_the_days_and_clients_behind_them_masked_and_scoped(activity_app):
    """zhouqiang's zhangwei: the three stored days of the period add up to the row; his two funded clients, masked."""
    html = page(activity_app, "zhouqiang")
    assert "/manage/activity/rows?advisor=zhangwei" in html
    manager = signed_in(activity_app, "zhouqiang")
    response = manager.get("/manage/activity/rows", query_string={"advisor": "zhangwei", "since": SINCE.isoformat(),
                                                                   "until": UNTIL.isoformat()})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    rows = response.get_data(as_text=True)
    days = re.findall(r'<tr data-day="([\d-]+)">(.*?)</tr>', rows, re.S)
    assert len(days) == 3
    for key in ("chats", "messages", "new_contacts", "lost_contacts"):
        total = sum(int(re.search(rf'data-figure="{key}">(\d+)<', cells).group(1)) for _, cells in days)
        assert str(total) == expected({"zhangwei"})[key], key
    accounts = re.findall(r'<li data-account="([^"]+)"', rows)
    assert sorted(accounts) == ["****0001", "****0002"], "funded and traded, not the opened one"
    assert "88pd000001" not in rows and "88pd000002" not in rows
    query = {"advisor": "zhangwei"}
    assert signed_in(activity_app, "hemin").get("/manage/activity/rows", query_string=query).status_code == 404
    assert signed_in(activity_app, "zhangwei").get("/manage/activity/rows", query_string=query).status_code == 403


def test_activity_is_part_of_the_workbench_navigation(activity_app):
    html = page(activity_app, "zhouqiang")
    assert 'href="/manage/openings"' in html and 'href="/manage/scorecard"' in html
    assert 'href="/manage/activity" aria-current="page"' in html
    openings = signed_in(activity_app, "zhouqiang").get("/manage/openings").get_data(as_text=True)
    assert 'href="/manage/activity"' in openings
    firm = signed_in(activity_app, "sunli").get("/manage/openings").get_data(as_text=True)
    assert 'href="/manage/activity"' not in firm, "compliance reads no department tree"


def test_a_manager_opening_the_app_outside_a_chat_finds_the_workbench(activity_app):
    home = signed_in(activity_app, "zhouqiang").get("/sidebar/today").get_data(as_text=True)
    assert 'href="/manage/"' in home and "网点管理" in home
    advisor = signed_in(activity_app, "zhangwei").get("/sidebar/today")
    assert advisor.status_code == 200 and "网点管理" not in advisor.get_data(as_text=True)
