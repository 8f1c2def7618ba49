"""A block leads somewhere, in the simulated WeCom client (Chromium, the official JS-SDK, the emulator): in
the demo's 合格投资者群 an R5 product is blocked, and goes one-to-one to the C5 clients the advisor confirms."""
import pytest
import requests
from playwright.sync_api import expect

from sidebar.materials import qualified
from sidebar.models import china_today
from test_browser import page  # noqa: F401  (the simulated client's page, failing on page errors)
from test_materials_browser import open_library

pytestmark = pytest.mark.timeout(180)


def test_in_the_qualified_group_r5_is_blocked_and_goes_one_to_one_to_the_c5_clients(page, demo_server):
    group = next(g for g in demo_server.emulator.world.groups.values() if g.name == "私募合格投资者群")
    with demo_server.flask_app.app_context():
        c5 = [c.member_id for c in qualified.check_members(group.chat_id, "C5", china_today()) if c.meets]
    assert c5, "the demo's qualified group has C5 clients"
    sidebar = open_library(page, demo_server, f"group:{group.chat_id}")
    expect(sidebar.locator(".library-target")).to_contain_text("合格投资者群 · C4")
    poster = material(sidebar, "科创成长混合基金海报")
    poster.locator(".material-row > .share-button").click()
    expect(poster.locator(".share-status")).to_have_text("已发送")  # R4: the mark lets it in

    item = material(sidebar, "雪球结构收益凭证：产品要素")
    expect(item.locator(".suitability")).to_contain_text("不适合 R5")
    item.locator(".direct-button").click()
    dialog = page.locator("#mass-send")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"发送给 {len(c5)} 位客户")
    dialog.get_by_role("button", name="确认发送").click()
    expect(item.locator(".share-status").first).to_contain_text(f"已提交单独发送给 {len(c5)} 位客户")
    expect(page.locator(".system-note")).to_contain_text(f"已单独发送给 {len(c5)} 位客户")
    messages = requests.get(f"{demo_server.url}/_wecom/_admin/messages", timeout=5).json()["messages"]
    reached = {m["chat"] for m in messages if m.get("kind") == "chat" and m["message"]["msgtype"] == "news"}
    assert {f"contact:{c}" for c in c5} <= reached


def material(sidebar, title):
    """The library's item of a material by its own title (an alternative offered inside another item is not it)."""
    return sidebar.locator(f'li.material:has(> .material-row .material-title:text-is("{title}"))')
