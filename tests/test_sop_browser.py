"""SOP in the simulated WeCom client: 今日SOP in the showroom group, sent in one tap, done on time."""
from datetime import datetime, timedelta

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import select

from sidebar.demo_data import showroom
from sidebar.extensions import db
from sidebar.models import CHINA, SopTask
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
        plan = plans.import_plans("wangyun", [{"name": "每日早盘要点", "kind": "group", "groups": [group["chat_id"]],
                                               "steps": [{"at": {"datetime": start.isoformat()}, "window_minutes": 60,
                                                          "text": "{顾问姓名}：早上好！今日早盘要点：…"}]}])[0]
        review.submit("wangyun", plan.id)
        review.approve("sunli", plan.id)
        tick()
        plan_id = plan.id
    page.goto(url)
    sidebar = page.frame_locator("iframe")
    with app.app_context():
        assert db.session.scalars(select(SopTask).where(SopTask.plan_id == plan_id)).all(), "a task was made"
    expect(sidebar.locator("article.group")).to_be_visible(timeout=15000)
    section = sidebar.locator(".sop-today")
    expect(section).to_contain_text("每日早盘要点", timeout=15000)
    section.locator(".sop-send").click()
    expect(section.locator(".sop-status")).to_have_text("已发送，任务完成", timeout=15000)
    messages = requests.get(f"{demo_server.url}/_wecom/_admin/messages", timeout=5).json()["messages"]
    assert any("今日早盘要点" in str(m["message"]) for m in messages)
    with app.app_context():
        assert db.session.scalars(select(SopTask).where(SopTask.plan_id == plan_id)).one().status == "done"
    page.screenshot(path=str(tmp_path / "sop-today-360.png"))  # docs/screenshots/sop-today-360.png was made so
