"""The department scope of every /manage page, export and rows endpoint: a manager below head office sees their
subtree only, the root manager the whole firm. One client of each of six advisors in four departments, each
carrying its advisor's markers (the advisor's name, the account's last four digits, the branch's name, a channel
named after the branch); which departments a response shows is read off those markers and compared with the
tree walked here. The routes come from the app's url_map: a /manage route this file does not know fails it."""
import io
import zipfile
from datetime import timedelta

import pytest

from acquisition_helpers import add_arrival
from dept_helpers import REGION_MANAGER, ROOT_MANAGER, departments_below, store_org
from helpers import signed_in
from manage_helpers import add_contact
from sidebar.extensions import db
from sidebar.identity.service import grant_role
from sidebar.models import AdvisorActivity, GroupActivity, Share, SopTarget, SopTask, china_today
from sidebar.sync.profiles import import_profiles
from sop_helpers import OPERATOR, live_plan, utc

# advisor -> (department, name, account); 财富管理部 (6) hangs off the root, outside 上海分公司 (2)
ADVISORS = {"zhangwei": (3, "张伟", "880000991111"), "lina": (3, "李娜", "880000992222"),
            "wangfang": (4, "王芳", "880000993333"), "liuyang": (4, "刘洋", "880000994444"),
            "songyu": (7, "宋雨", "880000995555"), "zhaomin": (6, "赵敏", "880000996666")}
BRANCHES = {3: "浦东营业部", 4: "徐汇营业部", 7: "静安营业部", 6: "财富管理部"}
PROFILE_BRANCH = {3: "上海分公司浦东营业部", 4: "上海分公司徐汇营业部", 7: "上海分公司静安营业部", 6: "财富管理部"}
MANAGERS = {"zhouqiang": {3}, "hemin": {4}, REGION_MANAGER: {2}, ROOT_MANAGER: {1}}
PLAN = {"name": "开户未入金提醒", "kind": "client", "trigger": {"stage": "opened", "held_days": 3},
        "steps": [{"at": {"day": 0, "time": "10:00"}, "window_minutes": 240, "text": "您好，账户已开通…"}]}

# Every /manage route: those asked here for the viewer's whole scope (a query that names nobody) …
WHOLE = {
    "/manage/openings": [""], "/manage/openings/rows": ["kind=opened"],
    "/manage/funnel": [""], "/manage/funnel/rows": ["step=added", "step=funded"],
    "/manage/execution": [""], "/manage/execution/rows": ["figure=counted", "figure=reach"],
    "/manage/scorecard": ["", "format=csv", "format=xlsx"],
    "/manage/wall": [""], "/manage/activity": [""], "/manage/activity/rows": [""], "/manage/activity/coverage": [""],
    "/manage/walls": [""],
}
# … those that name one advisor (404 outside the scope) or one branch (nothing outside it) …
BY_ADVISOR = {"/manage/openings/rows": "kind=opened", "/manage/funnel/rows": "step=added",
              "/manage/execution/rows": "figure=counted", "/manage/activity/rows": ""}
BY_BRANCH = {"/manage/funnel/rows": "step=added", "/manage/execution/rows": "figure=counted",
             "/manage/scorecard/rows": "indicator=new_funded", "/manage/activity/coverage": ""}
# … and those whose scope other files test, with why.
ELSEWHERE = {
    ("/manage/", "GET"): "a redirect to /manage/openings",
    ("/manage/scorecard/indicators", "POST"): "head office only (test_manage_scorecard)",
    ("/manage/walls", "POST"): "a wall only for the manager's tree (test_manage_walls)",
    ("/manage/walls/<int:wall_id>/link", "POST"): "the manager's own walls only (test_manage_walls)",
    ("/manage/walls/<int:wall_id>/revoke", "POST"): "the manager's own walls only (test_manage_walls)",
    ("/manage/wall/pair/<secret>", "GET"): "the TV's pairing, no staff session (test_manage_walls)",
    ("/manage/wall/pair/<secret>", "POST"): "the TV's pairing, no staff session (test_manage_walls)",
    ("/manage/wall/screen", "GET"): "the TV's wall, its department only (test_manage_walls)",
}


def expected(world, manager):
    """The departments with seeded figures whose markers the manager's pages may and should show."""
    return departments_below(world, MANAGERS[manager]) & {department for department, _, _ in ADVISORS.values()}


@pytest.fixture
def scope_app(library_app, world):
    """The tree and staff; each advisor's client added 10 days ago, opened and funded today, brought by its
    branch's channel; a day of statistics, an SOP task and a share for each advisor."""
    store_org(library_app, world)
    today = china_today()
    with library_app.app_context():
        grant_role(OPERATOR, "operator")
    plan_id = live_plan(library_app, PLAN)
    with library_app.app_context():
        from sidebar.sop import review
        version = review.get_plan(plan_id).live.id
        added = (today - timedelta(days=10)).isoformat() + " 10:00"
        yesterday = today - timedelta(days=1)
        rows = []
        for n, (advisor, (department, _, account)) in enumerate(ADVISORS.items()):
            external = f"wmscope{n}"
            add_contact(external, advisor, added, name=f"客户{n}", unionid=f"u_scope{n}")
            add_arrival(f"渠道{BRANCHES[department]}", external, added, userid=advisor)
            rows.append({"account_id": account, "unionid": f"u_scope{n}", "stage": "funded",
                         "branch": PROFILE_BRANCH[department],
                         "stage_dates": {"registered": (today - timedelta(days=5)).isoformat(),
                                         "opened": today.isoformat(), "funded": today.isoformat()}})
            db.session.add(AdvisorActivity(userid=advisor, day=yesterday, chat_cnt=5, message_cnt=20,
                                           reply_percentage=80.0, avg_reply_time=4.0, negative_feedback_cnt=0,
                                           new_apply_cnt=1, new_contact_cnt=1))
            db.session.add(GroupActivity(owner=advisor, day=yesterday, new_chat_cnt=0, chat_total=1, chat_has_msg=1,
                                         new_member_cnt=0, member_total=5, member_has_msg=2, msg_total=9))
            due = utc(f"{yesterday.isoformat()} 10:00")
            target = SopTarget(plan_id=plan_id, kind="client", target_id=external, advisor=advisor, started_at=due)
            db.session.add(target)
            db.session.flush()
            db.session.add(SopTask(plan_id=plan_id, version_id=version, step=0, target_ref=target.id,
                                   chat_kind="contact", chat_id=external, advisor=advisor, due_at=due,
                                   deadline=due + timedelta(hours=4), status="done"))
            db.session.add(Share(advisor=advisor, target_type="contact", target_id=external, status="sent",
                                 created_at=due, result_at=due, first_opened_at=due + timedelta(hours=1)))
        db.session.commit()
        assert import_profiles(rows).accepted == len(ADVISORS)
    return library_app


def text_of(response):
    """A response's text: an xlsx's XML parts read out of the zip, CSV and HTML as they are."""
    if response.mimetype.endswith("spreadsheetml.sheet"):
        book = zipfile.ZipFile(io.BytesIO(response.get_data()))
        return "".join(book.read(name).decode() for name in book.namelist() if name.endswith(".xml"))
    return response.get_data().decode("utf-8-sig")


def shown(text, branches=True):
    """The departments whose markers the text carries (the branch names left out for a page that repeats the
    branch it was asked for)."""
    found = {department for department, name, account in ADVISORS.values() if name in text or account[-4:] in text}
    return found | ({department for department, name in BRANCHES.items() if name in text} if branches else set())


def get(client, path, query):
    """GET path?query (the workbench's default period and month: today's)."""
    response = client.get(f"{path}?{query}" if query else path)
    assert response.headers.get("Cache-Control") == "no-store" or response.status_code >= 300, path
    return response


def test_every_manage_route_is_covered():
    """A new /manage route must be added to this file's lists (or to ELSEWHERE with the file that tests it)."""
    from sidebar import create_app  # no database is touched: only the url_map is read

    app = create_app({"TESTING": True, "SIDEBAR_MODE": "test", "SIDEBAR_SECRET_KEY": "k" * 64,
                      "SIDEBAR_DATABASE_URL": "sqlite://"})
    routes = {(rule.rule, method) for rule in app.url_map.iter_rules() if rule.rule.startswith("/manage")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    covered = {(path, "GET") for path in [*WHOLE, *BY_ADVISOR, *BY_BRANCH]} | set(ELSEWHERE)
    assert routes - covered == set(), "a /manage route no scope test covers"
    assert covered - routes == set(), "a route listed here the app no longer has"


@pytest.mark.parametrize("manager", sorted(MANAGERS))
def test_each_page_and_export_shows_the_managers_subtree_and_nothing_else(scope_app, world, manager):
    client = signed_in(scope_app, manager)
    want = expected(world, manager)
    assert want, "every manager has figures to see"
    for path, queries in WHOLE.items():
        for query in queries:
            response = get(client, path, query)
            assert response.status_code == 200, (path, query, response.status_code)
            assert shown(text_of(response)) == want, (path, query)


@pytest.mark.parametrize("manager", sorted(MANAGERS))
def test_rows_asked_for_an_advisor_or_a_branch_are_the_managers_only(scope_app, world, manager):
    client = signed_in(scope_app, manager)
    want = expected(world, manager)
    for path, query in BY_ADVISOR.items():
        for advisor, (department, _, _) in ADVISORS.items():
            response = get(client, path, f"{query}&advisor={advisor}".lstrip("&"))
            if department in want:
                assert response.status_code == 200 and shown(text_of(response)) == {department}, (path, advisor)
            else:
                assert response.status_code == 404, (path, advisor, response.status_code)
    for path, query in BY_BRANCH.items():
        for department, branch in BRANCHES.items():
            response = get(client, path, f"{query}&branch={branch}".lstrip("&"))
            if department in want:
                assert response.status_code == 200 and shown(text_of(response)) == {department}, (path, branch)
            else:
                assert response.status_code == 404 or not shown(text_of(response), branches=False), (path, branch)


def test_the_root_manager_sees_more_than_the_region_and_the_region_more_than_a_branch(world):
    """The parametrised cases above are only as strong as the scopes differ: check they do."""
    assert expected(world, "zhouqiang") == {3} and expected(world, "hemin") == {4}
    assert expected(world, REGION_MANAGER) == {3, 4, 7}
    assert expected(world, ROOT_MANAGER) == {3, 4, 6, 7}
