"""客户群发 in the simulated WeCom client: from the 工作台 the advisor sends a step to four clients at once,
confirms it in WeCom's 群发助手, and the SOP job's reading of the results closes the tasks."""
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from sidebar.demo_data import showroom
from sidebar.extensions import db, wecom
from sidebar.models import CHINA, SopMassSend, SopTask
from sidebar.sop import masssend


@pytest.fixture
def page(browser, demo_server):
    """A fresh browser page as wide as the simulated client."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def test_the_advisor_mass_sends_a_step_from_the_workbench_and_confirms_it_in_wecom(page, demo_server, tmp_path):
    app, world = demo_server.flask_app, demo_server.emulator.world.as_json()
    owner = showroom(world)["owner"]
    page.goto(f"{demo_server.url}/_wecom/client?userid={owner}&chat=normal")
    sidebar = page.frame_locator("iframe")
    offer = sidebar.locator(".sop-mass button", has_text="群发给 4 个客户")
    expect(offer).to_be_visible(timeout=15000)
    offer.click()
    expect(sidebar.locator(".sop-mass .notice")).to_contain_text("请在企业微信「群发助手」中确认发送", timeout=15000)
    expect(sidebar.locator('.sop-mass-item[data-status="waiting"]')).to_be_visible()
    # the four clients' tasks left the list of chats: they go with the mass send
    expect(sidebar.locator('.sop-chat[data-chat^="contact:"]')).to_have_count(0, timeout=15000)
    expect(sidebar.locator('.sop-chat[data-chat^="group:"]')).to_have_count(1)
    page.locator("#sidebar-frame").screenshot(path=str(tmp_path / "sop-mass-360.png"))  # docs/screenshots/

    page.goto(f"{demo_server.url}/_wecom/client?userid={owner}&chat=normal")  # WeCom shows the task to confirm
    assistant = page.locator("#groupmsg")
    expect(assistant).to_contain_text("发给 4 个客户")
    assistant.locator("button.groupmsg-send").click()
    expect(page.locator(".world-notice")).to_contain_text("群发已发送：送达 4")

    with app.app_context():
        assert masssend.poll(wecom(), datetime.now(CHINA) + timedelta(minutes=5)).closed == 4
        assert db.session.scalars(select(SopMassSend.status)).one() == "done"
        statuses = db.session.scalars(select(SopTask.status).where(SopTask.mass_send_id.is_not(None))).all()
    assert statuses == ["done"] * 4
    page.goto(f"{demo_server.url}/_wecom/client?userid={owner}&chat=normal")
    expect(page.frame_locator("iframe").locator(".sop-mass-item")).to_contain_text("按时完成 4", timeout=15000)
