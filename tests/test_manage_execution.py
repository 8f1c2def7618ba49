"""SOP execution and material reach per advisor and branch, computed by hand from seeded tasks and shares."""
import re
from datetime import timedelta

import pytest

from helpers import signed_in
from manage_helpers import COMPLIANCE, MANAGER, add_member, seed_branches
from sidebar.extensions import db
from sidebar.identity.service import grant_role
from sidebar.models import ExternalContact, Share, SopTarget, SopTask
from sop_helpers import OPERATOR, live_plan, utc

PLAN = {"name": "开户未入金提醒", "kind": "client", "trigger": {"stage": "opened", "held_days": 3},
        "steps": [{"at": {"day": 0, "time": "10:00"}, "window_minutes": 240, "text": "您好，账户已开通…"}]}
# advisor, due (China time), status; deadlines are due + 4 h
TASKS = [("zhangwei", "2026-11-03 10:00", "done"), ("zhangwei", "2026-11-04 10:00", "done"),
         ("zhangwei", "2026-11-05 10:00", "late"), ("zhangwei", "2026-11-06 10:00", "skipped"),
         ("zhangwei", "2026-11-07 10:00", "cancelled"), ("zhangwei", "2026-10-20 10:00", "open"),
         ("lina", "2026-11-10 10:00", "open"), ("lina", "2026-11-11 10:00", "expired"),
         ("lina", "2099-11-11 10:00", "open"),
         ("wangfang", "2026-11-10 10:00", "done")]
SHARES = [("zhangwei", "contact", "wm_x1", "2026-11-02 09:00", True), ("zhangwei", "contact", "wm_x1", "2026-11-09 09:00", False),
          ("zhangwei", "group", "wr_g1", "2026-11-09 09:00", True), ("lina", "contact", "wm_x2", "2026-12-01 09:00", False),
          ("wangfang", "contact", "wm_x3", "2026-11-09 09:00", True)]
PERIOD = "since=2026-11-01&until=2026-11-30"


@pytest.fixture
def sop_app(app):
    """Tasks and shares of both branches."""
    seed_branches(app)
    with app.app_context():
        grant_role(OPERATOR, "operator")
        db.session.commit()
    plan_id = live_plan(app, PLAN)
    with app.app_context():
        from sidebar.sop import review
        version = review.get_plan(plan_id).live
        for n, (advisor, due, status) in enumerate(TASKS):
            target = SopTarget(plan_id=plan_id, kind="client", target_id=f"wm_t{n}", advisor=advisor, started_at=utc(due))
            db.session.add(target)
            db.session.flush()
            db.session.add(SopTask(plan_id=plan_id, version_id=version.id, step=0, target_ref=target.id,
                                   chat_kind="contact", chat_id=target.target_id, advisor=advisor, due_at=utc(due),
                                   deadline=utc(due) + timedelta(hours=4), status=status))
        for advisor, kind, target, at, opened in SHARES:
            db.session.add(Share(advisor=advisor, target_type=kind, target_id=target, status="sent", created_at=utc(at),
                                 result_at=utc(at), first_opened_at=utc(at) + timedelta(hours=1) if opened else None))
        db.session.add(ExternalContact(external_userid="wm_t0", name="王总13812345678"))
        add_member("hemin", "何敏", 4)  # 徐汇's manager
        db.session.commit()
        grant_role("hemin", "manager")
        db.session.commit()
    return app


def figures(page, row):
    """data-figure -> text of a table row."""
    found = re.search(rf'<tr {row}>(.*?)</tr>', page, re.S).group(1)
    return dict(re.findall(r'data-figure="([\w-]+)">(?:<a [^>]*>)?([^<]*)<', found))


def test_on_time_rates_overdue_tasks_and_reach_of_the_managers_branch(sop_app):
    """zhangwei in November: done 2, late 1, skipped 1 (cancelled left out) = 4 counted, 50%; overdue now: the
    October task. lina: the open 11-10 task is overdue, expired 11-11 = 2 counted, 0%; the 2099 task is not due.
    Reach: zhangwei sent 3 in November to 1 client and 1 group, 2 opened; lina's share is December's."""
    page = signed_in(sop_app, MANAGER).get(f"/manage/execution?{PERIOD}").get_data(as_text=True)
    zhangwei = figures(page, 'data-advisor="zhangwei"')
    assert zhangwei == {"counted": "4", "done": "2", "on-time": "50.0%", "overdue": "1", "sent": "3",
                        "clients": "1", "groups": "1"}
    lina = figures(page, 'data-advisor="lina"')
    assert (lina["counted"], lina["on-time"], lina["overdue"], lina["sent"]) == ("2", "0.0%", "1", "0")
    branch = figures(page, 'data-branch="部门 3"')
    assert (branch["counted"], branch["done"], branch["on-time"], branch["overdue"]) == ("6", "2", "33.3%", "2")
    assert 'data-advisor="wangfang"' not in page and "部门 4" not in page
    firm = signed_in(sop_app, COMPLIANCE).get(f"/manage/execution?{PERIOD}").get_data(as_text=True)
    assert figures(firm, 'data-advisor="wangfang"')["on-time"] == "100.0%"
    assert "<svg" in page


def row_statuses(client, query):
    """data-status of each row behind a figure (the page must answer 200)."""
    response = client.get(f"/manage/execution/rows?{PERIOD}&{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return re.findall(r'<tr data-status="(\w+)">', html), html


def test_each_figure_links_to_the_rows_behind_it_masked_and_scoped(sop_app):
    """zhangwei's on-time rate is out of 4 tasks, 2 done; 1 overdue now (October's); 3 sends in November. Another
    branch's manager gets none of them."""
    manager = signed_in(sop_app, MANAGER)
    page = manager.get(f"/manage/execution?{PERIOD}").get_data(as_text=True)
    assert "/manage/execution/rows?figure=counted" in page and "advisor=zhangwei" in page
    counted, html = row_statuses(manager, "figure=counted&advisor=zhangwei")
    assert sorted(counted) == ["done", "done", "late", "skipped"]
    assert "13812345678" not in html and "138****5678" in html, "names are masked"
    assert row_statuses(manager, "figure=overdue&advisor=zhangwei")[0] == ["overdue"]
    assert sorted(row_statuses(manager, "figure=reach&advisor=zhangwei")[0]) == ["已打开", "已打开", "未打开"]
    branch, _ = row_statuses(manager, "figure=counted&branch=部门 3")
    assert len(branch) == 6 and branch.count("done") == 2
    other = signed_in(sop_app, "hemin")
    assert other.get(f"/manage/execution/rows?{PERIOD}&figure=counted&advisor=zhangwei").status_code == 404
    assert row_statuses(other, "figure=counted&branch=部门 3")[0] == []
    assert row_statuses(other, "figure=counted")[0] == ["done"], "only wangfang's own task"
