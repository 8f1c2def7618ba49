"""The simulated WeCom client in real Chromium: the official JS-SDK, the bridge, our panels."""

from types import SimpleNamespace

import pytest
import requests
from playwright.sync_api import expect

from helpers import advisors, run_sql, wecom_calls

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def page(browser, demo_server):
    """A fresh browser profile; fails the test on any page error."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []


def client_url(server, userid, chat):
    """The simulated client opened as userid on a chat."""
    return f"{server.url}/_wecom/client?userid={userid}&chat={chat}"


def test_client_chat_then_group_chat_show_their_panels(page, demo_server):
    world = demo_server.emulator.world.as_json()
    userid = advisors(world)[0]
    follow = next(f for f in world["follows"] if f["userid"] == userid)
    contact = next(c for c in world["contacts"] if c["external_userid"] == follow["external_userid"])
    group = next(g for g in world["groups"]
                 if g["owner"] == userid or any(m["userid"] == userid for m in g["members"]))

    page.goto(client_url(demo_server, userid, f"contact:{contact['external_userid']}"))
    sidebar = page.frame_locator("iframe")
    expect(sidebar.locator("article.contact h1")).to_have_text(follow["remark"] or contact["name"], timeout=15000)
    expect(page.locator("body")).to_have_attribute("data-agent-config", "ok")

    page.locator(f'[data-chat="group:{group["chat_id"]}"]').first.click()
    expect(sidebar.locator("article.group h1")).to_have_text(group["name"], timeout=15000)
    expect(page.locator("body")).to_have_attribute("data-agent-config", "ok")
    assert page.evaluate("() => document.querySelector('iframe').contentWindow.localStorage.length") == 0


def open_first_contact(page, server):
    """The simulated client on the first advisor's first client; returns the sidebar's frame once its panel shows."""
    world = server.emulator.world.as_json()
    userid = advisors(world)[0]
    follow = next(f for f in world["follows"] if f["userid"] == userid)
    page.goto(client_url(server, userid, f"contact:{follow['external_userid']}"))
    sidebar = page.frame_locator("iframe")
    expect(sidebar.locator("article.contact")).to_be_visible(timeout=15000)
    return sidebar


def ticket_fetches(server):
    """How many agent tickets the app asked the emulator for since its call log was last cleared."""
    return wecom_calls(SimpleNamespace(url=server.url + "/_wecom"), "/cgi-bin/ticket/get")


def test_tickets_wecom_replaced_under_the_app_are_renewed_and_the_sidebar_recovers(page, demo_server):
    sidebar = open_first_contact(page, demo_server)
    admin = f"{demo_server.url}/_wecom/_admin"
    requests.post(f"{admin}/faults", json={"expire_tokens": True}, timeout=5).raise_for_status()  # WeCom renews them
    requests.delete(f"{admin}/calls", timeout=5).raise_for_status()
    page.reload()
    expect(sidebar.locator("article.contact")).to_be_visible(timeout=15000)
    expect(page.locator("body")).to_have_attribute("data-agent-config", "ok")
    assert ticket_fetches(demo_server) == 1, "one new ticket, no loop"


def test_a_ticket_refused_again_soon_fails_registration_with_a_clear_message(page, demo_server):
    sidebar = open_first_contact(page, demo_server)
    requests.delete(f"{demo_server.url}/_wecom/_admin/calls", timeout=5).raise_for_status()
    # a ticket WeCom no longer knows
    stale = "UPDATE token_cache SET value = 'stale-ticket' WHERE key LIKE '%agent_ticket'"
    run_sql(demo_server.flask_app, stale)
    page.reload()
    expect(sidebar.locator("article.contact")).to_be_visible(timeout=15000)  # renewed: one fetch
    expect(page.locator("body")).to_have_attribute("data-agent-config", "ok")
    run_sql(demo_server.flask_app, stale)
    page.reload()  # within the few minutes between renewals: WeCom's hourly quota is not spent on it
    expect(sidebar.locator(".notice.error")).to_contain_text("应用身份校验失败", timeout=15000)
    expect(page.locator("body")).to_have_attribute("data-agent-config", "fail")
    assert ticket_fetches(demo_server) == 1


def test_outside_a_chat_the_sidebar_is_the_advisors_workbench(page, demo_server):
    userid = advisors(demo_server.emulator.world.as_json())[0]
    page.goto(client_url(demo_server, userid, "normal"))
    expect(page.frame_locator("iframe").locator("#workbench-title")).to_have_text("工作台", timeout=15000)


def test_sidebar_opened_outside_wecom_explains_itself(page, demo_server):
    userid = advisors(demo_server.emulator.world.as_json())[0]
    page.context.add_cookies([{"name": "wecom_userid", "value": userid, "url": demo_server.url + "/_wecom/"}])
    page.goto(demo_server.url + "/sidebar/")
    expect(page.locator(".notice.error")).to_contain_text("请从客户聊天或客户群的工具栏打开", timeout=15000)


def test_advisor_adds_a_follow_up_note_and_sees_it_at_once(page, demo_server):
    world = demo_server.emulator.world.as_json()
    userid = advisors(world)[0]
    follow = next(f for f in world["follows"] if f["userid"] == userid)
    page.goto(client_url(demo_server, userid, f"contact:{follow['external_userid']}"))
    sidebar = page.frame_locator("iframe")
    sidebar.locator("textarea[name=body]").fill("客户想了解红利低波ETF，周三下午回电")
    sidebar.get_by_role("button", name="添加记录").click()
    expect(sidebar.locator(".note-body").first).to_have_text("客户想了解红利低波ETF，周三下午回电")
    expect(sidebar.locator(".note-meta").first).to_contain_text("张伟")
    expect(sidebar.locator("textarea[name=body]")).to_have_value("")
    sidebar.get_by_role("button", name="添加记录").click()  # empty: a clear error, nothing stored
    expect(sidebar.locator(".field-error")).to_have_text("请输入跟进内容")
    expect(sidebar.locator(".note")).to_have_count(1)
