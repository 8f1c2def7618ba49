"""Departments: WeCom's tree synced, and a manager's scope (their department and every one below it; the firm for
the root) on each existing manager view: the client panel, the share audit and its CSV, the figures, SOP figures."""
import re

import pytest

from helpers import login, publish, signed_in
from dept_helpers import BRANCH_MANAGERS, PUDONG, REGION_MANAGER, ROOT_MANAGER, XUHUI, staff_below, store_org
from sidebar.domain.access import advisors_managed_by
from sidebar.extensions import db, wecom
from sidebar.models import Department, Staff
from sidebar.sync import full
from test_audit_scope import exported, listed, send

SCOPES = {"zhouqiang": {3}, "hemin": {4}, REGION_MANAGER: {2}, ROOT_MANAGER: {1}}


@pytest.fixture
def org_app(library_app, world):
    """The console app with the tree, the staff and the four managers."""
    store_org(library_app, world)
    return library_app


def test_the_full_sync_stores_the_tree_and_a_second_run_changes_nothing(app, emulator, world):
    with app.app_context():
        first = full.sync(wecom(), pace=0)
        tree = {d.id: (d.name, d.parentid) for d in db.session.scalars(db.select(Department))}
        second = full.sync(wecom(), pace=0)
    assert tree == {d["id"]: (d["name"], d["parentid"]) for d in world["departments"]}
    assert first.counts["departments_changed"] == len(world["departments"])
    assert second.counts["departments_changed"] == 0
    branches = [name for name, parent in tree.values() if name.endswith("营业部")]
    assert len(branches) == 3


@pytest.mark.parametrize("manager", sorted(SCOPES))
def test_advisors_managed_by_is_the_department_and_everything_below(org_app, world, manager):
    with org_app.app_context():
        assert advisors_managed_by(manager) == staff_below(world, SCOPES[manager])
    if manager == ROOT_MANAGER:
        assert staff_below(world, {1}) == {s["userid"] for s in world["staff"]}


def test_without_a_tree_a_manager_sees_their_own_departments_as_before(library_app, world):
    with library_app.app_context():
        for member in world["staff"]:
            db.session.add(Staff(userid=member["userid"], name=member["name"], department=member["department"]))
        db.session.commit()
        assert advisors_managed_by("zhouqiang") == {s["userid"] for s in world["staff"] if s["department"] == [3]}
        assert advisors_managed_by(REGION_MANAGER) == {REGION_MANAGER}, "no tree: nothing below is known"


def only_followed_in(world, department):
    """A contact whose every follower works in the department."""
    departments = {s["userid"]: s["department"] for s in world["staff"]}
    followers = {}
    for follow in world["follows"]:
        followers.setdefault(follow["external_userid"], []).append(follow["userid"])
    return next(c for c, who in followers.items() if all(departments[u] == [department] for u in who))


@pytest.mark.parametrize("manager,sees", [("hemin", {4}), (REGION_MANAGER, {3, 4}), (ROOT_MANAGER, {3, 4}),
                                          ("zhouqiang", {3})])
def test_the_client_panel_opens_read_only_for_clients_in_scope(org_app, world, manager, sees):
    viewer = org_app.test_client()
    login(viewer, manager)
    for department in (3, 4):
        page = viewer.get(f"/sidebar/contacts/{only_followed_in(world, department)}")
        assert page.status_code == (200 if department in sees else 404), (manager, department)
        if page.status_code == 200:
            assert "只读" in page.get_data(as_text=True)


@pytest.fixture
def shares(org_app, world):
    """One article sent by an advisor of 浦东 and one of 徐汇."""
    material = publish(org_app, "link", title="四季度策略展望")
    return {"material": material, PUDONG: send(org_app, world, PUDONG, material),
            XUHUI: send(org_app, world, XUHUI, material)}


@pytest.mark.parametrize("manager,advisors", [("zhouqiang", [PUDONG]), ("hemin", [XUHUI]),
                                              (REGION_MANAGER, [PUDONG, XUHUI]), (ROOT_MANAGER, [PUDONG, XUHUI])])
def test_the_audit_its_csv_and_the_figures_follow_the_tree(org_app, shares, manager, advisors):
    client = signed_in(org_app, manager)
    assert listed(client.get("/console/audit").get_data(as_text=True)) == sorted(shares[a][0] for a in advisors)
    assert sorted((row[2], row[8]) for row in exported(client)) == sorted((a, shares[a][1]) for a in advisors)
    figures = client.get("/console/figures").get_data(as_text=True)
    assert sorted(re.findall(r'data-advisor="(\w+)"', figures)) == sorted(advisors)
    page = client.get(f"/console/materials/{shares['material']}").get_data(as_text=True)
    assert re.search(rf"<strong>{len(advisors)}</strong>发送", page)


def test_sop_figures_count_the_managers_tree_only(org_app):
    from test_sop_console import live, seed

    plan_id = live(org_app)
    tasks = [(PUDONG, "done", None)] * 3 + [(XUHUI, "late", None)] * 2 + [("songyu", "expired", None)]
    seed(org_app, plan_id, treated=6, treated_reached=2, holdout=2, holdout_reached=0, tasks=tasks)
    expected = {"zhouqiang": ({PUDONG: 3}, "8（对照 2）"), "hemin": ({XUHUI: 2}, "0（对照 0）"),
                REGION_MANAGER: ({PUDONG: 3, XUHUI: 2, "songyu": 1}, "8（对照 2）")}  # seed's targets: 浦东's
    for manager, (rows, targets) in expected.items():
        page = signed_in(org_app, manager).get(f"/console/sop/{plan_id}").get_data(as_text=True)
        cells = re.findall(r"<td>(.*?)</td>", re.search(r'<tr data-row="plan">(.*?)</tr>', page, re.S).group(1))
        assert cells[:2] == [targets, str(sum(rows.values()))], manager
        assert set(re.findall(r'<tr data-row="(\w+)">', page)) - {"plan"} == set(rows), manager


@pytest.mark.parametrize("manager,sees", [("hemin", {"基金理财沙龙"}), ("zhouqiang", {"价值投资交流群"}),
                                          (REGION_MANAGER, {"基金理财沙龙", "价值投资交流群"}),
                                          (ROOT_MANAGER, {"基金理财沙龙", "价值投资交流群"})])
def test_the_group_panel_opens_for_groups_owned_in_scope(org_app, world, manager, sees):
    viewer = org_app.test_client()
    login(viewer, manager)
    for name in ("基金理财沙龙", "价值投资交流群"):  # owned by wangfang (徐汇) and lina (浦东); no manager is a member
        group = next(g for g in world["groups"] if g["name"] == name)
        assert manager not in {m["userid"] for m in group["members"]}
        status = viewer.get(f"/sidebar/groups/{group['chat_id']}").status_code
        assert status == (200 if name in sees else 404), (manager, name)
