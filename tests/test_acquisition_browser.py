"""In the simulated WeCom client: a prospect scans the 抖音直播 code, the welcome appears in the chat within
seconds, and the advisor's sidebar says where the contact came from, with the channel's tag (issue 20)."""
import time

import pytest
from playwright.sync_api import expect

from sidebar.acquisition.demo import WELCOME_BODY


@pytest.fixture
def page(browser, demo_server):
    """A fresh browser page, wide enough for the client's chat and its 360 px sidebar."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


@pytest.mark.timeout(120)
def test_a_prospect_scans_the_live_stream_code_and_the_sidebar_shows_where_they_came_from(page, demo_server):
    page.goto(f"{demo_server.url}/_wecom/acquisition")
    code = page.locator("li.code", has_text="抖音直播")
    code.locator("input[name=name]").fill("周小鱼")
    started = time.monotonic()
    code.get_by_role("button", name="模拟客户扫码").click()
    page.wait_for_url("**/_wecom/client?**")
    for _ in range(10):  # the chat is rendered by the server: look again until the welcome is in it
        if page.locator("#welcome-message").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator("#welcome-message")).to_contain_text(WELCOME_BODY[:20])
    assert time.monotonic() - started < 12
    expect(page.locator("#chat-title")).to_contain_text("周小鱼")
    sidebar = page.frame_locator("iframe")
    expect(sidebar.locator("[data-source]")).to_contain_text("抖音直播", timeout=15000)
    expect(sidebar.locator("ul.tags li", has_text="直播").first).to_be_visible()
