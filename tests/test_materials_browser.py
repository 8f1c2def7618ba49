"""The share round trip in the simulated WeCom client (real Chromium, the official JS-SDK, the emulator)."""
import pytest
import requests
from helpers import eventually
from playwright.sync_api import expect

from sidebar.materials.demo import demo_client_with_class
from sidebar.models import china_today
from test_browser import page  # noqa: F401  (the simulated client's page, failing on page errors)

pytestmark = pytest.mark.timeout(180)
ADVISOR = "zhangwei"


def c2_client(world):
    """A client of the advisor whose valid risk class is C2 (from the demo's trading data)."""
    return demo_client_with_class(world, ADVISOR, "C2", china_today())


def open_library(page, server, chat):
    """The simulated client on a chat, with the sidebar's library tab open; returns the sidebar frame."""
    page.goto(f"{server.url}/_wecom/client?userid={ADVISOR}&chat={chat}")
    sidebar = page.frame_locator("iframe")
    expect(sidebar.locator("#tabs")).to_be_visible(timeout=15000)
    sidebar.locator('#tabs [data-tab="library"]').click()
    expect(sidebar.locator(".library")).to_be_visible()
    return sidebar


def send(sidebar, title):
    """Tap 发送 on a material; returns its status line."""
    item = sidebar.locator("li.material", has_text=title)
    item.locator(".share-button").click()
    return item.locator(".share-status")


def test_advisor_shares_to_a_client_and_a_group_is_blocked_once_and_the_client_opens_the_link(
        page, browser, demo_server):
    world = demo_server.emulator.world.as_json()
    client = c2_client(world)
    sidebar = open_library(page, demo_server, f"contact:{client}")
    expect(sidebar.locator(".library-target")).to_contain_text("C2")

    sidebar.locator('input[name="q"]').fill("海报")
    expect(sidebar.locator("li.material")).to_have_count(3)  # the two product posters and the event poster
    expect(send(sidebar, "双十一开户福利海报")).to_have_text("已发送")
    expect(page.locator('.message[data-msgtype="image"]')).to_have_count(1)

    blocked = send(sidebar, "科创成长混合基金海报")
    expect(blocked).to_contain_text("已拦截")
    expect(blocked).to_contain_text("客户风险等级 C2，不能发送 R4")
    expect(page.locator(".message")).to_have_count(1)  # nothing was sent

    sidebar.locator('input[name="q"]').fill("")
    expect(send(sidebar, "新能源行业深度研究")).to_have_text("已发送")
    expect(send(sidebar, "新手入门：什么是 ETF")).to_have_text("已发送")
    expect(page.locator('.message[data-msgtype="file"]')).to_have_count(1)
    news = page.locator('.message[data-msgtype="news"] a.bubble-card')
    expect(news).to_have_count(1)
    link = news.get_attribute("href")
    assert link.startswith(f"{demo_server.url}/r/")

    group = next(g for g in world["groups"] if g["name"] == "ETF定投学习群")
    sidebar = open_library(page, demo_server, f"group:{group['chat_id']}")
    for title in ("双十一开户福利海报", "新能源行业深度研究", "新手入门：什么是 ETF"):
        expect(send(sidebar, title)).to_have_text("已发送")
    for msgtype in ("image", "file", "news"):
        expect(page.locator(f'.message[data-msgtype="{msgtype}"][data-chat="group:{group["chat_id"]}"]')).to_have_count(1)

    # The client opens the card on their phone: another browser, no session of ours. Chromium's
    # redirect to the (external) article cannot be intercepted, so the tab's request for our link is
    # passed to our server as it is and the redirect it answers is shown instead of followed.
    phone = browser.new_context(user_agent="Mozilla/5.0 (iPhone) MicroMessenger/8.0", locale="zh-CN")
    redirects = []

    def show_redirect(route):
        answer = route.fetch(max_redirects=0)
        redirects.append((answer.status, answer.headers.get("location")))
        route.fulfill(body=f"<h1>{answer.status}</h1>", content_type="text/html")

    phone.route(link, show_redirect)
    phone.new_page().goto(link)
    phone.close()
    assert redirects == [(302, "https://example.com/sidebar-demo/what-is-etf")]

    def app_messages():
        messages = requests.get(f"{demo_server.url}/_wecom/_admin/messages", timeout=5).json()["messages"]
        return [m["message"]["text"]["content"] for m in messages if m["kind"] == "app"]
    announced = eventually(app_messages)  # sent by the demo's worker
    assert len(announced) == 1 and announced[0].endswith("打开了《新手入门：什么是 ETF》")

    # The panel of that client now lists what was shared and read.
    sidebar = open_library(page, demo_server, f"contact:{client}")
    sidebar.locator('#tabs [data-tab="chat"]').click()
    expect(sidebar.locator(".share-list")).to_contain_text("已读 1 次")


def test_compliance_sees_figures_and_the_audit_in_the_console(page, browser, demo_server):
    world = demo_server.emulator.world.as_json()
    client = c2_client(world)
    sidebar = open_library(page, demo_server, f"contact:{client}")
    expect(send(sidebar, "科创成长混合基金海报")).to_contain_text("已拦截")
    page.locator("#cancel-send").check()  # the advisor cancels WeCom's confirmation
    expect(send(sidebar, "申江证券开户小程序")).to_have_text("已取消发送")
    page.locator("#cancel-send").uncheck()
    expect(send(sidebar, "开户流程话术")).to_have_text("已发送")
    expect(page.locator('.message[data-msgtype="text"]')).to_have_count(1)

    console = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    console.add_cookies([{"name": "wecom_userid", "value": "sunli", "url": f"{demo_server.url}/_wecom/"}])
    desk = console.new_page()
    desk.goto(f"{demo_server.url}/console/audit")
    expect(desk.locator("tr[data-share-id]")).to_have_count(3)
    expect(desk.locator("tr.result-blocked")).to_contain_text("R4")
    expect(desk.locator("tr.result-cancelled")).to_contain_text("申江证券开户小程序")
    expect(desk.locator("tr.result-sent")).to_contain_text("开户流程话术")
    desk.goto(f"{demo_server.url}/console/figures")
    expect(desk.locator("table.figures-advisors tr", has_text="张伟")).to_be_visible()
    console.close()
