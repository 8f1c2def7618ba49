"""SOP in the sidebar: 今日SOP above the chat's panel, sending a task through the share path (the gate
runs at that moment, the audit records the task), completion from the reported result, skip, 工作台."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from helpers import import_classes, publish, signed_in
from sidebar.extensions import db
from sidebar.models import CHINA, Share, SopTask
from sidebar.sop import plans, review
from sidebar.sop.tick import tick

ADVISOR = "zhangwei"


@pytest.fixture
def group(world):
    """zhangwei's ETF group of the seed, with a C5 and a C2 client among its members."""
    return next(g for g in world["groups"] if g["name"] == "ETF定投学习群")


def unionid_of(world, external_userid):
    """The unionid of a seed contact or prospect."""
    return next(p["unionid"] for p in world["contacts"] + world["prospects"] if p["external_userid"] == external_userid)


def plan_for(app, chat_id, text, materials=(), minutes_ago=5, window=60):
    """A live group plan with one step that started minutes_ago; ticked now. Returns the task's id."""
    start = (datetime.now(CHINA) - timedelta(minutes=minutes_ago)).replace(second=0, microsecond=0)
    with app.app_context():
        plan = plans.import_plans("wangyun", [{
            "name": "每日早盘要点", "kind": "group", "groups": [chat_id],
            "steps": [{"at": {"datetime": start.isoformat()}, "window_minutes": window, "text": text,
                       "materials": list(materials)}]}])[0]
        db.session.commit()
        review.submit("wangyun", plan.id)
        db.session.commit()
        review.approve("sunli", plan.id)
        db.session.commit()
        tick()
        return db.session.scalars(select(SopTask).where(SopTask.plan_id == plan.id)).one().id


@pytest.fixture
def advisor(library_app, group):
    """The group owner signed in, the group opened once (so it is stored)."""
    client = signed_in(library_app, ADVISOR)
    assert client.get(f"/sidebar/groups/{group['chat_id']}").status_code == 200
    return client


def post(client, url, **form):
    """POST with the session's CSRF token."""
    return client.post(url, data=form, headers={"X-CSRFToken": client.csrf})


def task_row(app, task_id):
    """The stored task."""
    with app.app_context():
        task = db.session.get(SopTask, task_id)
        db.session.expunge(task)
        return task


def test_the_group_panel_shows_todays_sop_and_one_tap_sends_it_done_on_time(library_app, advisor, group):
    material = publish(library_app, "text", body="今日ETF观察")
    task_id = plan_for(library_app, group["chat_id"], "{顾问姓名}：各位早上好！", materials=[material])
    panel = advisor.get(f"/sidebar/groups/{group['chat_id']}").get_data(as_text=True)
    assert f"/sidebar/tasks?chat=group:{group['chat_id']}" in panel
    section = advisor.get(f"/sidebar/tasks?chat=group:{group['chat_id']}").get_data(as_text=True)
    assert "今日SOP" in section and "每日早盘要点" in section and f"/sidebar/tasks/{task_id}/shares" in section
    assert "张伟：各位早上好！" in section and "今日ETF观察" not in section and "测试text" in section  # as sent

    answer = post(advisor, f"/sidebar/tasks/{task_id}/shares")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    shares = answer.get_json()["shares"]
    assert [s["message"] for s in shares] == [{"msgtype": "text", "text": {"content": "今日ETF观察"}},
                                              {"msgtype": "text", "text": {"content": "张伟：各位早上好！"}}]
    with library_app.app_context():
        assert {row.task_id for row in db.session.scalars(select(Share))} == {task_id}  # the audit knows the task
    assert post(advisor, f"/sidebar/shares/{shares[0]['share_id']}", result="sent").status_code == 200
    assert task_row(library_app, task_id).status == "open", "one message of two is not the task"
    assert post(advisor, f"/sidebar/shares/{shares[1]['share_id']}", result="sent").status_code == 200
    task = task_row(library_app, task_id)
    assert task.status == "done" and task.done_at is not None
    assert "今日SOP" not in advisor.get(f"/sidebar/tasks?chat=group:{group['chat_id']}").get_data(as_text=True)
    assert post(advisor, f"/sidebar/tasks/{task_id}/shares").status_code == 409


def test_a_cancelled_send_leaves_the_task_open_and_sent_after_the_deadline_is_late(library_app, advisor, group):
    task_id = plan_for(library_app, group["chat_id"], "早上好")
    first = post(advisor, f"/sidebar/tasks/{task_id}/shares").get_json()["shares"][0]
    post(advisor, f"/sidebar/shares/{first['share_id']}", result="cancelled")
    assert task_row(library_app, task_id).status == "open"
    with library_app.app_context():
        db.session.get(SopTask, task_id).deadline -= timedelta(hours=2)  # the window closed meanwhile
        db.session.commit()
    again = post(advisor, f"/sidebar/tasks/{task_id}/shares").get_json()["shares"][0]
    post(advisor, f"/sidebar/shares/{again['share_id']}", result="sent")
    assert task_row(library_app, task_id).status == "late"


def test_a_product_step_into_a_group_with_an_unsuitable_client_is_blocked_with_the_reason(library_app, world,
                                                                                          advisor, group):
    externals = [m for m in group["members"] if m["type"] == 2 and unionid_of(world, m["userid"])]
    import_classes(library_app, {unionid_of(world, externals[0]["userid"]): ("C2", 300, [])})
    product = publish(library_app, "text", risk_level="R4", body="科创成长基金")
    task_id = plan_for(library_app, group["chat_id"], "", materials=[product])
    answer = post(advisor, f"/sidebar/tasks/{task_id}/shares")
    assert answer.status_code == 403
    body = answer.get_json()
    assert "R4" in body["blocked"] and body["share_id"]
    task = task_row(library_app, task_id)
    assert (task.status, task.reason) == ("blocked", body["blocked"])
    with library_app.app_context():
        assert db.session.get(Share, body["share_id"]).task_id == task_id


def test_skip_needs_a_reason_and_another_advisor_cannot_touch_the_task(library_app, advisor, group):
    task_id = plan_for(library_app, group["chat_id"], "早上好")
    other = signed_in(library_app, "lina")
    assert post(other, f"/sidebar/tasks/{task_id}/shares").status_code == 404
    assert post(other, f"/sidebar/tasks/{task_id}/skip", reason="x").status_code == 404
    assert post(advisor, f"/sidebar/tasks/{task_id}/skip", reason=" ").status_code == 422
    answer = post(advisor, f"/sidebar/tasks/{task_id}/skip", reason="客户近期已沟通")
    assert answer.status_code == 200 and answer.get_json()["status"] == "skipped"
    assert (task_row(library_app, task_id).reason) == "客户近期已沟通"


def test_the_workbench_lists_due_tasks_by_chat_and_what_was_done_today(library_app, advisor, group):
    task_id = plan_for(library_app, group["chat_id"], "早上好")
    page = advisor.get("/sidebar/today").get_data(as_text=True)
    assert "工作台" in page and "ETF定投学习群" in page and "每日早盘要点" in page
    assert f'data-chat-id="{group["chat_id"]}"' in page and 'data-kind="group"' in page
    post(advisor, f"/sidebar/tasks/{task_id}/skip", reason="客户近期已沟通")
    page = advisor.get("/sidebar/today").get_data(as_text=True)
    assert "当前没有待发送的SOP任务" in page and "今天已处理" in page and "已跳过" in page
    assert "ETF定投学习群" not in signed_in(library_app, "lina").get("/sidebar/today").get_data(as_text=True)
