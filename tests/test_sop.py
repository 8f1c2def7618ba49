"""SOP plans: the plan file, the review, and the tick at chosen times (trading days, holidays, make-up
Saturdays, two hosts, an edit mid-run, targets leaving, goals and the holdout)."""
import json
import threading

import pytest
from sqlalchemy import func, select

from helpers import make_app
from sidebar.extensions import db
from sidebar.models import ClientProfile, Follow, GroupChat, SopPlan, SopTarget, SopTask
from sidebar.sop import plans, review
from sidebar.sop.tick import is_held_out, tick
from sop_helpers import (OPERATOR, REVIEWER, add_client, add_group, add_staff, at, day, live_plan, run_tick,
                         utc)

BRIEFING = {"name": "每日早盘要点", "kind": "group", "groups": ["wrSHOW"], "group_rule": {},
            "steps": [{"at": {"trading_days": "08:45"}, "window_minutes": 60, "text": "早上好！今日早盘要点：…",
                       "materials": []}], "holdout": 0}
NOT_FUNDED = {"name": "开户未入金提醒", "kind": "client", "trigger": {"stage": "opened", "held_days": 3},
              "goal": {"stage": "funded", "within_days": 14}, "audience": {},
              "steps": [{"at": {"day": 0, "time": "10:00"}, "window_minutes": 240, "text": "{客户称呼}您好，账户已开通…",
                         "materials": []},
                        {"at": {"day": 2, "time": "10:00"}, "window_minutes": 240, "text": "入金指引：…",
                         "materials": []}],
              "holdout": 0}


@pytest.fixture
def sop_app(app):
    """The app with an operator and a small world: two advisors, the showroom group, a few clients."""
    from sidebar.identity.service import grant_role

    with app.app_context():
        grant_role(OPERATOR, "operator")
        db.session.commit()
        grant_role(REVIEWER, "compliance")
        db.session.commit()
        add_staff("zhangwei", "张伟", 3)
        add_staff("lina", "李娜", 4)
        add_group("wrSHOW", "样板间·新客交流群", "zhangwei")
        add_group("wrOTHER", "理财交流群", "lina")
        db.session.commit()
    return app


def tasks(app, **where):
    """(chat_id, step, China due time) of the tasks, sorted."""
    from sidebar.models import CHINA
    from sidebar.jobs.schedule import from_utc

    with app.app_context():
        rows = db.session.scalars(select(SopTask).filter_by(**where)).all()
        return sorted((t.chat_id, t.step, from_utc(t.due_at).astimezone(CHINA).strftime("%m-%d %H:%M")) for t in rows)


# -- the plan file ------------------------------------------------------------------------------------

def test_a_plan_file_is_imported_as_drafts_and_exported_back_the_same(sop_app, tmp_path):
    path = tmp_path / "plans.json"
    path.write_text(json.dumps([BRIEFING, NOT_FUNDED], ensure_ascii=False), encoding="utf-8")
    result = sop_app.test_cli_runner().invoke(args=["sop", "import", str(path)])
    assert result.exit_code == 0, result.output
    ids = [int(line.split("\t")[0].rsplit("/", 1)[1]) for line in result.output.splitlines()]
    assert len(ids) == 2 and all(line.startswith("/console/sop/") for line in result.output.splitlines())
    with sop_app.app_context():
        assert [review.state_of(review.get_plan(i))[0] for i in ids] == ["draft", "draft"]
    exported = sop_app.test_cli_runner().invoke(args=["sop", "export"])
    assert json.loads(exported.output) == [BRIEFING, NOT_FUNDED]


@pytest.mark.parametrize("fault, said", [
    ({"kind": "robot"}, "kind"),
    ({"steps": []}, "steps"),
    ({"steps": [{"at": {"trading_days": "8:45"}, "text": "x"}]}, "steps[0].at"),
    ({"steps": [{"at": {"weekday": 8, "time": "19:00"}, "text": "x"}]}, "steps[0].at"),
    ({"steps": [{"at": {"day": 1, "time": "10:00"}, "text": "{客户姓名}您好"}]}, "{客户姓名}"),
    ({"steps": [{"at": {"day": 1, "time": "10:00"}, "materials": [999]}]}, "物料 999"),
    ({"holdout": 0.9}, "holdout"),
    ({"colour": "red"}, "colour"),
])
def test_a_bad_plan_refuses_the_whole_file_with_the_reason(sop_app, tmp_path, fault, said):
    path = tmp_path / "plans.json"
    path.write_text(json.dumps([BRIEFING, {**NOT_FUNDED, **fault}], ensure_ascii=False), encoding="utf-8")
    result = sop_app.test_cli_runner().invoke(args=["sop", "import", str(path)])
    assert result.exit_code != 0
    assert "第 2 个计划" in result.output and said in result.output, result.output
    with sop_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SopPlan)) == 0, "nothing created"


def test_a_client_plan_needs_a_known_trigger(sop_app):
    with sop_app.app_context(), pytest.raises(plans.BadPlan, match="trigger"):
        plans.parse_file([{**NOT_FUNDED, "trigger": {"stage": "rich"}}])


# -- the review ---------------------------------------------------------------------------------------

def test_review_is_four_eyes_and_an_edit_makes_a_new_version_while_the_approved_one_stays_live(sop_app):
    with sop_app.app_context():
        plan = plans.import_plans(OPERATOR, [BRIEFING])[0]
        db.session.commit()
        with pytest.raises(review.WrongState):
            review.approve(REVIEWER, plan.id)  # a draft is not reviewed
            db.session.commit()
        review.submit(OPERATOR, plan.id)
        db.session.commit()
        with pytest.raises(review.NotAllowed):
            review.approve(OPERATOR, plan.id)  # the author may not approve their own plan
            db.session.commit()
        with pytest.raises(review.InvalidInput):
            review.reject(REVIEWER, plan.id, " ")
            db.session.commit()
        review.approve(REVIEWER, plan.id)
        db.session.commit()
        assert review.state_of(plan)[0] == "approved"
        edited = {**{k: v for k, v in BRIEFING.items() if k not in ("name", "kind")},
                  "steps": [{**BRIEFING["steps"][0], "text": "早上好！新版要点"}]}
        review.update_plan(OPERATOR, plan.id, edited)
        db.session.commit()
        plan = review.get_plan(plan.id)
        assert [v.status for v in plan.versions] == ["approved", "draft"]
        assert plan.live.spec["steps"][0]["text"].startswith("早上好！今日")
        review.submit(OPERATOR, plan.id)
        db.session.commit()
        review.reject(REVIEWER, plan.id, "措辞需调整")
        db.session.commit()
        assert plan.head.review_comment == "措辞需调整" and plan.live.number == 1
        review.pause(OPERATOR, plan.id)
        db.session.commit()
        assert review.state_of(plan)[0] == "paused"
        review.resume(OPERATOR, plan.id)
        db.session.commit()
        assert review.state_of(plan)[0] == "approved"


def test_roles_grant_knows_the_operator(app):
    result = app.test_cli_runner().invoke(args=["roles", "grant", "wangyun", "operator"])
    assert result.exit_code == 0, result.output
    assert "wangyun\toperator" in app.test_cli_runner().invoke(args=["roles", "list"]).output


# -- the tick: group plans ----------------------------------------------------------------------------

def test_the_briefing_is_due_at_0845_on_a_trading_day_and_not_on_a_holiday_nor_a_make_up_saturday(sop_app):
    live_plan(sop_app, BRIEFING)
    run_tick(sop_app, "2026-10-09 08:44")  # Friday, a trading day: not yet
    assert tasks(sop_app) == []
    run_tick(sop_app, "2026-10-09 08:45")
    assert tasks(sop_app) == [("wrSHOW", 0, "10-09 08:45")]
    run_tick(sop_app, "2026-10-10 08:50")  # Saturday worked in lieu of National Day (调休): exchanges closed
    run_tick(sop_app, "2026-10-01 08:50")  # National Day
    run_tick(sop_app, "2026-10-12 09:44")  # Monday, still inside the window
    run_tick(sop_app, "2026-10-13 09:45")  # Tuesday, the window has closed
    assert tasks(sop_app) == [("wrSHOW", 0, "10-09 08:45"), ("wrSHOW", 0, "10-12 08:45")]


def test_the_cli_tick_takes_an_iso_moment(sop_app):
    live_plan(sop_app, BRIEFING)
    result = sop_app.test_cli_runner().invoke(args=["sop-tick", "--at", "2026-12-08T08:45:00+08:00"])
    assert result.exit_code == 0, result.output
    assert "新任务 1" in result.output
    assert tasks(sop_app) == [("wrSHOW", 0, "12-08 08:45")]


def test_a_group_rule_takes_groups_created_later_and_day_steps_count_from_joining(sop_app):
    live_plan(sop_app, {"name": "样板间新群培育", "kind": "group", "groups": [],
                        "group_rule": {"name_contains": "样板间", "departments": [3]},
                        "steps": [{"at": {"day": 0, "time": "10:00"}, "text": "欢迎入群"},
                                  {"at": {"day": 1, "time": "10:00"}, "text": "投教第一课"}]})
    run_tick(sop_app, "2026-12-07 09:00")
    with sop_app.app_context():
        add_group("wrNEW", "样板间·二群", "zhangwei", created="2026-12-07 09:30")
        add_group("wrNEWLINA", "样板间·三群", "lina", created="2026-12-07 09:30")  # another department
        db.session.commit()
    run_tick(sop_app, "2026-12-07 09:31")
    run_tick(sop_app, "2026-12-07 10:00")
    run_tick(sop_app, "2026-12-08 10:00")
    assert tasks(sop_app) == [("wrNEW", 0, "12-07 10:00"), ("wrNEW", 1, "12-08 10:00"),
                              ("wrSHOW", 0, "12-07 10:00"), ("wrSHOW", 1, "12-08 10:00")]


def test_a_weekday_step_and_a_fixed_date(sop_app):
    live_plan(sop_app, {"name": "周三直播预告", "kind": "group", "groups": ["wrSHOW"],
                        "steps": [{"at": {"weekday": 3, "time": "19:00"}, "window_minutes": 30, "text": "今晚直播"},
                                  {"at": {"datetime": "2026-12-31T15:00:00"}, "text": "年终回顾"}]})
    for moment in ("2026-12-08 19:00", "2026-12-09 19:10", "2026-12-16 18:59", "2026-12-31 15:30"):
        run_tick(sop_app, moment)
    assert tasks(sop_app) == [("wrSHOW", 0, "12-09 19:00"), ("wrSHOW", 1, "12-31 15:00")]


def test_two_hosts_ticking_at_once_make_each_task_once(sop_app, tmp_path, emulator):
    live_plan(sop_app, BRIEFING)
    other = make_app(tmp_path / "sidebar.db", emulator.url)  # a second host on the same database
    errors = []

    def host(app):
        try:
            for _ in range(5):
                run_tick(app, "2026-12-08 08:46")
        except Exception as error:  # noqa: BLE001 - the test reports it
            errors.append(error)
    threads = [threading.Thread(target=host, args=(app,)) for app in (sop_app, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert tasks(sop_app) == [("wrSHOW", 0, "12-08 08:45")]
    with sop_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SopTarget)) == 1


def test_an_edit_approved_mid_run_applies_to_steps_not_yet_due(sop_app):
    plan_id = live_plan(sop_app, BRIEFING)
    run_tick(sop_app, "2026-12-08 08:45")
    with sop_app.app_context():
        spec = {k: v for k, v in BRIEFING.items() if k not in ("name", "kind")}
        review.update_plan(OPERATOR, plan_id, {**spec, "steps": [{**spec["steps"][0], "text": "新版早盘要点"}]})
        db.session.commit()
        run_tick(sop_app, "2026-12-09 08:45")  # the edit is a draft: the approved version still applies
        review.submit(OPERATOR, plan_id)
        db.session.commit()
        review.approve(REVIEWER, plan_id)
        db.session.commit()
    run_tick(sop_app, "2026-12-10 08:45")
    with sop_app.app_context():
        made = db.session.scalars(select(SopTask).order_by(SopTask.due_at)).all()
        assert [t.version.number for t in made] == [1, 1, 2]
        assert made[2].version.spec["steps"][0]["text"] == "新版早盘要点"


def test_a_paused_plan_makes_no_tasks_until_resumed(sop_app):
    plan_id = live_plan(sop_app, BRIEFING)
    with sop_app.app_context():
        review.pause(OPERATOR, plan_id)
        db.session.commit()
    run_tick(sop_app, "2026-12-08 08:45")
    with sop_app.app_context():
        review.resume(OPERATOR, plan_id)
        db.session.commit()
    run_tick(sop_app, "2026-12-09 08:45")
    assert tasks(sop_app) == [("wrSHOW", 0, "12-09 08:45")]


def test_a_dismissed_group_leaves_and_its_open_tasks_end_with_the_reason(sop_app):
    live_plan(sop_app, BRIEFING)
    run_tick(sop_app, "2026-12-08 08:45")
    with sop_app.app_context():
        db.session.get(GroupChat, "wrSHOW").dismissed_at = utc("2026-12-08 09:00")
        db.session.commit()
    run_tick(sop_app, "2026-12-08 09:01")
    run_tick(sop_app, "2026-12-09 08:45")
    with sop_app.app_context():
        task = db.session.scalars(select(SopTask)).one()
        assert (task.status, task.reason) == ("cancelled", "群已解散")
        assert db.session.scalars(select(SopTarget)).one().end_reason == "group_dismissed"


def test_an_unsent_task_expires_at_the_end_of_its_day(sop_app):
    live_plan(sop_app, BRIEFING)
    run_tick(sop_app, "2026-12-08 08:45")
    run_tick(sop_app, "2026-12-08 23:59")
    assert tasks(sop_app, status="open")
    run_tick(sop_app, "2026-12-09 00:00")
    assert tasks(sop_app, status="expired") == [("wrSHOW", 0, "12-08 08:45")]


# -- the tick: client plans ---------------------------------------------------------------------------

def test_opened_but_not_funded_for_three_days_until_funding_ends_the_plan(sop_app):
    with sop_app.app_context():
        add_client("wmOPENED01", "zhangwei", stage="opened", stage_dates={"opened": "2026-12-04"})
        add_client("wmOPENED02", "lina", stage="opened", stage_dates={"opened": "2026-12-06"})
        add_client("wmFUNDED03", "zhangwei", stage="funded", stage_dates={"opened": "2026-12-01", "funded": "2026-12-02"})
        db.session.commit()
    live_plan(sop_app, NOT_FUNDED)
    run_tick(sop_app, "2026-12-07 10:00")  # 01 opened on the 4th: held three days
    assert tasks(sop_app) == [("wmOPENED01", 0, "12-07 10:00")]
    with sop_app.app_context():
        task = db.session.scalars(select(SopTask)).one()
        assert (task.chat_kind, task.advisor) == ("contact", "zhangwei")
        profile = db.session.scalar(select(ClientProfile).filter_by(external_userid="wmOPENED01"))
        profile.stage = "funded"  # the client funds: the plan's goal
        db.session.commit()
    run_tick(sop_app, "2026-12-09 10:00")  # 01's day-2 step is not made; 02 reaches day 3
    assert tasks(sop_app) == [("wmOPENED01", 0, "12-07 10:00"), ("wmOPENED02", 0, "12-09 10:00")]
    with sop_app.app_context():
        target = db.session.scalar(select(SopTarget).filter_by(target_id="wmOPENED01"))
        assert target.end_reason == "goal" and target.goal_at is not None


def test_a_deleted_contact_leaves_and_its_open_task_is_cancelled(sop_app):
    with sop_app.app_context():
        add_client("wmOPENED01", "zhangwei", stage="opened", stage_dates={"opened": "2026-12-04"})
        db.session.commit()
    live_plan(sop_app, NOT_FUNDED)
    run_tick(sop_app, "2026-12-07 10:00")
    with sop_app.app_context():
        db.session.scalar(select(Follow)).ended_at = utc("2026-12-07 11:00")
        db.session.commit()
    run_tick(sop_app, "2026-12-07 11:01")
    with sop_app.app_context():
        task = db.session.scalars(select(SopTask)).one()
        assert (task.status, task.reason) == ("cancelled", "客户已删除")


def test_new_contacts_risk_expiry_dormancy_and_tags_trigger_client_plans(sop_app):
    with sop_app.app_context():
        add_client("wmNEW00001", "zhangwei", added="2026-12-08 09:00")
        add_client("wmOLD00001", "zhangwei", added="2026-06-01 09:00")
        add_client("wmRISK0001", "zhangwei", stage="funded", risk_level="C3", risk_expires=day("2026-12-20"))
        add_client("wmSLEEP001", "lina", stage="traded", last_trade_date=day("2026-06-01"))
        add_client("wmRICH0001", "lina", stage="funded", tags=["高净值"], risk_level="C4")
        db.session.commit()
    step = [{"at": {"day": 0, "time": "10:00"}, "text": "您好"}]
    for name, trigger in (("新客欢迎", {"event": "added"}), ("风测到期提醒", {"risk_expires_within_days": 15}),
                          ("沉睡唤醒", {"dormant": True}), ("高净值介绍", {"tag": "高净值"})):
        live_plan(sop_app, {"name": name, "kind": "client", "trigger": trigger, "steps": step})
    run_tick(sop_app, "2026-12-08 10:00")
    assert [t[0] for t in tasks(sop_app)] == ["wmNEW00001", "wmRICH0001", "wmRISK0001", "wmSLEEP001"]


def test_audience_filters_keep_clients_out(sop_app):
    with sop_app.app_context():
        add_client("wmC3000001", "zhangwei", stage="opened", risk_level="C3", stage_dates={"opened": "2026-12-04"})
        add_client("wmC4000001", "lina", stage="opened", risk_level="C4", stage_dates={"opened": "2026-12-04"})
        db.session.commit()
    live_plan(sop_app, {**NOT_FUNDED, "audience": {"departments": [3], "risk_levels": ["C3", "C4"]}})
    run_tick(sop_app, "2026-12-07 10:00")
    assert [t[0] for t in tasks(sop_app)] == ["wmC3000001"]


def test_the_holdout_is_fixed_per_target_and_gets_no_tasks(sop_app):
    ids = [f"wmHOLD{n:04d}" for n in range(200)]
    with sop_app.app_context():
        for external_userid in ids:
            add_client(external_userid, "zhangwei", stage="opened", stage_dates={"opened": "2026-12-04"})
        db.session.commit()
    plan_id = live_plan(sop_app, {**NOT_FUNDED, "holdout": 0.1})
    run_tick(sop_app, "2026-12-07 10:00")
    expected = {i for i in ids if is_held_out(plan_id, i, 0.1)}
    assert 5 <= len(expected) <= 40  # about a tenth
    with sop_app.app_context():
        held = set(db.session.scalars(select(SopTarget.target_id).filter_by(holdout=True)))
    assert held == expected
    assert {t[0] for t in tasks(sop_app)} == set(ids) - expected
    assert is_held_out(plan_id, ids[0], 0.1) == is_held_out(plan_id, ids[0], 0.1)


# -- reminders ----------------------------------------------------------------------------------------

def test_one_reminder_per_advisor_and_slot_however_many_groups_and_ticks(sop_app, emulator):
    import requests

    from helpers import eventually, run_worker

    with sop_app.app_context():
        add_group("wrSHOW2", "样板间·二群", "zhangwei")
        db.session.commit()
    live_plan(sop_app, {**BRIEFING, "groups": ["wrSHOW", "wrSHOW2", "wrOTHER"]})
    for _ in range(3):
        run_tick(sop_app, "2026-12-08 08:45")
    run_worker(sop_app)

    def app_messages():
        answer = requests.get(f"{emulator.url}/_admin/messages", timeout=5).json()["messages"]
        return sorted((m["message"]["touser"], m["message"]["text"]["content"]) for m in answer if m["kind"] == "app")
    assert eventually(lambda: len(app_messages()) == 2)
    assert app_messages() == [
        ("lina", "今天 08:45 有 1 个群待发送「每日早盘要点」，请在侧边栏「工作台」中查看。"),
        ("zhangwei", "今天 08:45 有 2 个群待发送「每日早盘要点」，请在侧边栏「工作台」中查看。")]


def test_a_group_or_contact_not_stored_yet_does_not_leave_the_plan(sop_app):
    plan_id = live_plan(sop_app, {**BRIEFING, "groups": ["wrSHOW", "wrNOTYET"]})
    live_plan(sop_app, NOT_FUNDED)
    with sop_app.app_context():
        for chat_id, kind in (("wrNOTYET", "group"), ("wmNOTYET01", "client")):
            plan = plan_id if kind == "group" else plan_id + 1
            db.session.add(SopTarget(plan_id=plan, kind=kind, target_id=chat_id, advisor="zhangwei",
                                     started_at=utc("2026-12-01 00:00")))
        db.session.commit()
    run_tick(sop_app, "2026-12-08 08:45")
    with sop_app.app_context():
        assert db.session.scalars(select(SopTarget.end_reason).where(SopTarget.ended_at.is_not(None))).all() == []
    assert ("wrNOTYET", 0, "12-08 08:45") in tasks(sop_app)
