"""The console's SOP pages: review by role and four eyes, and the figures computed from seeded rows."""
import math
import re
from datetime import timedelta

import pytest

from helpers import signed_in
from sidebar.extensions import db
from sidebar.models import SopTarget, SopTask, utcnow
from sidebar.sop import plans, review
from sop_helpers import REVIEWER

OPERATOR = "chenjing"  # a member of the emulator's corp who writes plans

PLAN = {"name": "开户未入金提醒", "kind": "client", "trigger": {"stage": "opened", "held_days": 3},
        "goal": {"stage": "funded", "within_days": 14},
        "steps": [{"at": {"day": 0, "time": "10:00"}, "window_minutes": 240, "text": "{客户称呼}您好，账户已开通…"}],
        "holdout": 0.1}


@pytest.fixture
def console_app(library_app):
    """The library's console staff, plus an operator."""
    from sidebar.identity.service import grant_role

    with library_app.app_context():
        grant_role(OPERATOR, "operator")
        db.session.commit()
    return library_app


def post(client, url, **form):
    """A console form POST."""
    return client.post(url, data={"csrf_token": client.csrf, **form})


def new_plan(app, plan=PLAN):
    """A draft plan; returns its id."""
    with app.app_context():
        plan_id = plans.import_plans(OPERATOR, [plan])[0].id
        db.session.commit()
        return plan_id


def test_the_operator_submits_and_compliance_approves_by_role_and_four_eyes(console_app):
    plan_id = new_plan(console_app)
    operator, reviewer, advisor = (signed_in(console_app, u) for u in (OPERATOR, REVIEWER, "zhangwei"))
    assert advisor.get(f"/console/sop/{plan_id}").status_code == 403
    page = operator.get("/console/sop/").get_data(as_text=True)
    assert "开户未入金提醒" in page and "草稿" in page
    assert post(reviewer, f"/console/sop/{plan_id}/submit").status_code == 403, "compliance does not submit"
    assert post(operator, f"/console/sop/{plan_id}/submit").status_code == 303
    assert post(operator, f"/console/sop/{plan_id}/approve").status_code == 403, "the operator does not approve"
    assert post(reviewer, f"/console/sop/{plan_id}/reject", comment="").status_code == 422
    assert post(reviewer, f"/console/sop/{plan_id}/approve").status_code == 303
    assert "已生效" in reviewer.get(f"/console/sop/{plan_id}").get_data(as_text=True)
    assert post(operator, f"/console/sop/{plan_id}/pause").status_code == 303
    assert "已暂停" in operator.get(f"/console/sop/{plan_id}").get_data(as_text=True)
    assert post(operator, f"/console/sop/{plan_id}/pause").status_code == 409
    assert post(operator, f"/console/sop/{plan_id}/resume").status_code == 303


def test_a_reviewer_who_wrote_the_plan_may_not_approve_it(console_app):
    with console_app.app_context():
        plan_id = plans.import_plans(REVIEWER, [PLAN])[0].id
        db.session.commit()
        review.submit(REVIEWER, plan_id)
        db.session.commit()
    answer = post(signed_in(console_app, REVIEWER), f"/console/sop/{plan_id}/approve")
    assert answer.status_code == 403 and "不能审核自己" in answer.get_data(as_text=True)


def wilson(k, n, z=1.96):
    """Wilson interval, written out again here (the test's own arithmetic)."""
    p = k / n
    denominator = 1 + z * z / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / denominator, (centre + spread) / denominator


def seed(app, plan_id, treated, treated_reached, holdout, holdout_reached, tasks):
    """Targets that joined 30 days ago (some reaching the goal in 5 days, one in 20: too late) and tasks."""
    now = utcnow()
    started = now - timedelta(days=30)
    with app.app_context():
        rows = []
        for index in range(treated + holdout):
            held = index >= treated
            reached = (index - treated < holdout_reached) if held else index < treated_reached
            rows.append(SopTarget(plan_id=plan_id, kind="client", target_id=f"wm{index:08d}", advisor="zhangwei",
                                  started_at=started, holdout=held, goal_at=started + timedelta(days=5) if reached else None))
        rows.append(SopTarget(plan_id=plan_id, kind="client", target_id="wmLATEGOAL", advisor="zhangwei",
                              started_at=started, holdout=False, goal_at=started + timedelta(days=20)))
        rows.append(SopTarget(plan_id=plan_id, kind="client", target_id="wmTOONEW", advisor="lina",
                              started_at=now - timedelta(days=3), holdout=False))  # not 14 days yet
        db.session.add_all(rows)
        db.session.flush()
        version = review.get_plan(plan_id).live
        for n, (advisor, status, reason) in enumerate(tasks):
            db.session.add(SopTask(plan_id=plan_id, version_id=version.id, step=0, target_ref=rows[n].id,
                                   chat_kind="contact", chat_id=rows[n].target_id, advisor=advisor,
                                   due_at=started, deadline=started + timedelta(hours=4), status=status, reason=reason))
        db.session.commit()


def live(app, plan=PLAN):
    """A live plan's id."""
    plan_id = new_plan(app, plan)
    with app.app_context():
        review.submit(OPERATOR, plan_id)
        db.session.commit()
        review.approve(REVIEWER, plan_id)
        db.session.commit()
    return plan_id


def test_figures_show_the_outcomes_and_the_effect_against_the_holdout(console_app):
    plan_id = live(console_app)
    tasks = ([("zhangwei", "done", None)] * 5 + [("zhangwei", "late", None)] * 2
             + [("zhangwei", "skipped", "客户近期已沟通")] * 2 + [("lina", "blocked", "适当性不匹配"), ("lina", "expired", None)])
    seed(console_app, plan_id, treated=40, treated_reached=16, holdout=35, holdout_reached=7, tasks=tasks)
    page = signed_in(console_app, OPERATOR).get(f"/console/sop/{plan_id}").get_data(as_text=True)
    plan_row = re.search(r'<tr data-row="plan">(.*?)</tr>', page, re.S).group(1)
    cells = re.findall(r"<td>(.*?)</td>", plan_row)
    assert cells == ["42（对照 35）", "11", "5", "2", "2", "1", "1", "0", "0"]  # … expired, not delivered, open
    assert "客户近期已沟通 2" in page
    treated_row = re.sub(r">\s+<", "><", re.search(r'<tr data-arm="执行组">(.*?)</tr>', page, re.S).group(1))
    low, high = wilson(16, 41)  # 40 + the one that funded too late; the newcomer has not had 14 days
    assert f"<td>41</td><td>16</td><td>{16 / 41 * 100:.1f}%</td>" in treated_row
    assert f"{low * 100:.1f}% – {high * 100:.1f}%" in treated_row
    p1, p0 = 16 / 41, 7 / 35
    se = math.sqrt(p1 * (1 - p1) / 41 + p0 * (1 - p0) / 35)
    assert f"提升 {(p1 - p0) * 100:+.1f}%（95% 区间 {(p1 - p0 - 1.96 * se) * 100:+.1f}%" in page


def test_no_uplift_is_claimed_on_small_numbers(console_app):
    plan_id = live(console_app)
    seed(console_app, plan_id, treated=12, treated_reached=8, holdout=3, holdout_reached=0, tasks=[])
    page = signed_in(console_app, REVIEWER).get(f"/console/sop/{plan_id}").get_data(as_text=True)
    assert "样本太少" in page and "提升" not in page
