"""SOP in the simulated WeCom client: 今日SOP in the showroom group, sent in one tap, done on time."""
from datetime import datetime, timedelta

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import select

from sidebar.demo_data import showroom
from sidebar.extensions import db
from sidebar.models import CHINA, SopTask, utcnow
from sidebar.sop import plans, review
from sidebar.sop.tick import tick


@pytest.fixture
def page(browser, demo_server):
    """A fresh browser page."""
    context = browser.new_context(viewport={"width": 360, "height": 760})
    yield context.new_page()
    context.close()


def test_the_advisor_sends_todays_step_in_the_showroom_group_in_one_tap(page, demo_server, tmp_path):
    app, world = demo_server.flask_app, demo_server.emulator.world.as_json()
    group = showroom(world)
    url = f"{demo_server.url}/_wecom/client?userid={group['owner']}&chat=group:{group['chat_id']}"
    page.goto(url)  # the group as the sidebar first stores it
    expect(page.frame_locator("iframe").locator("article.group")).to_be_visible(timeout=15000)
    start = (datetime.now(CHINA) - timedelta(minutes=1)).replace(second=0, microsecond=0)
    with app.app_context():
        plan = plans.import_plans("wangyun", [{"name": "测试早盘要点", "kind": "group", "groups": [group["chat_id"]],
                                               "steps": [{"at": {"datetime": start.isoformat()}, "window_minutes": 60,
                                                          "text": "{顾问姓名}：早上好！今日早盘要点：…"}]}])[0]
        db.session.commit()
        review.submit("wangyun", plan.id)
        db.session.commit()
        review.approve("sunli", plan.id)
        db.session.commit()
        tick()
        plan_id = plan.id
    page.goto(url)
    sidebar = page.frame_locator("iframe")
    with app.app_context():
        assert db.session.scalars(select(SopTask).where(SopTask.plan_id == plan_id)).all(), "a task was made"
    expect(sidebar.locator("article.group")).to_be_visible(timeout=15000)
    section = sidebar.locator(".sop-today")
    task = section.locator(".sop-task", has_text="测试早盘要点")
    expect(task).to_be_visible(timeout=15000)
    task.locator(".sop-send").click()
    expect(task.locator(".sop-status")).to_have_text("已发送，任务完成", timeout=15000)
    messages = requests.get(f"{demo_server.url}/_wecom/_admin/messages", timeout=5).json()["messages"]
    assert any("今日早盘要点" in str(m["message"]) for m in messages)
    with app.app_context():
        assert db.session.scalars(select(SopTask).where(SopTask.plan_id == plan_id)).one().status == "done"
    page.screenshot(path=str(tmp_path / "sop-today-360.png"))  # docs/screenshots/sop-today-360.png was made so


def test_the_demo_seeds_the_showroom_story_with_history_and_a_task_due_now(demo_server):
    from helpers import signed_in
    from sidebar.demo import prepare_demo
    from sidebar.models import SopPlan

    app, world = demo_server.flask_app, demo_server.emulator.world.as_json()
    with app.app_context():
        names = set(db.session.scalars(select(SopPlan.name)))
        counts = {status: db.session.scalar(select(db.func.count()).select_from(SopTask).where(SopTask.status == status))
                  for status in ("done", "late", "skipped", "blocked", "expired", "open")}
    assert names == {"样板间新群培育", "每日早盘要点", "周三直播预告", "开户未入金提醒", "沉睡唤醒", "风测到期提醒"}
    assert all(counts.values()), counts
    prepare_demo(app)  # a restart seeds nothing twice
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(SopPlan)) == 6
    owner = showroom(world)["owner"]
    section = signed_in(app, owner).get(f"/sidebar/tasks?chat=group:{showroom(world)['chat_id']}").get_data(as_text=True)
    assert "今日SOP" in section and "样板间新群培育" in section
    with app.app_context():
        plan_id = db.session.scalar(select(SopPlan.id).where(SopPlan.name == "开户未入金提醒"))
    page = signed_in(app, "sunli").get(f"/console/sop/{plan_id}").get_data(as_text=True)
    assert "提升" in page and "样本太少" not in page


def test_from_the_workbench_the_advisor_opens_the_showroom_and_sends_the_due_step(page, demo_server):
    world = demo_server.emulator.world.as_json()
    group = showroom(world)
    page.goto(f"{demo_server.url}/_wecom/client?userid={group['owner']}&chat=normal")
    sidebar = page.frame_locator("iframe")
    chat = sidebar.locator(f'.sop-chat[data-chat="group:{group["chat_id"]}"]')
    expect(chat).to_contain_text("样板间新群培育", timeout=15000)
    chat.locator(".sop-open-chat").click()
    expect(page).to_have_url(f"{demo_server.url}/_wecom/client?userid={group['owner']}&chat=group%3A{group['chat_id']}",
                             timeout=15000)
    task = page.frame_locator("iframe").locator(".sop-task", has_text="样板间新群培育")
    task.locator(".sop-send").click()
    expect(task.locator(".sop-status")).to_have_text("已发送，任务完成", timeout=15000)
    with demo_server.flask_app.app_context():
        recent = db.session.scalars(select(SopTask.status).where(
            SopTask.chat_id == group["chat_id"], SopTask.due_at >= utcnow() - timedelta(hours=1))).all()
    assert recent == ["done"], "the task due when the demo started, done on time"
