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


@pytest.mark.timeout(120)
def test_an_operator_prints_the_code_on_an_approved_poster_on_the_phone(browser, demo_server):
    import io

    import zxingcpp
    from PIL import Image

    from test_craft_browser import SMALL_TARGETS, phone

    page = phone(browser, demo_server, "chenjing")  # the demo's operator
    page.goto(f"{demo_server.url}/console/channels")
    page.get_by_role("link", name="抖音直播").first.click()
    form = page.locator("form.poster-form")
    expect(form.get_by_role("combobox")).to_contain_text("双十一开户福利海报")
    form.get_by_role("combobox").select_option(label="双十一开户福利海报")
    assert page.evaluate("() => document.documentElement.scrollWidth") == 360
    assert page.evaluate(SMALL_TARGETS, "form.poster-form select, form.poster-form button") == []
    with page.expect_download() as download:
        form.get_by_role("button", name="生成带二维码的海报（PNG）").click()
    poster = Image.open(io.BytesIO(download.value.path().read_bytes()))
    assert [code.text for code in zxingcpp.read_barcodes(poster)][0].startswith("https://work.weixin.qq.com/ca/")
    page.context.close()
