"""The console on a phone (issue 17 item 8): a reviewer at 360 px in real Chromium, light and dark."""
from pprint import pformat

import pytest
from playwright.sync_api import expect

from console_helpers import console_pages
from test_craft_browser import BROKEN_LABELS, SMALL_TARGETS, TAPPABLE, phone, serious_violations

pytestmark = pytest.mark.timeout(300)

# Labels of the bar and the forms: [text, left, top] of each, to see rows and columns.
BOXES = """selector => [...document.querySelectorAll(selector)].filter(e => e.checkVisibility())
  .map(e => [e.textContent.trim().slice(0, 8), Math.round(e.getBoundingClientRect().left),
             Math.round(e.getBoundingClientRect().top)])"""
# Whether the page itself scrolls sideways (the tables' boxes may, the page may not).
PAGE_WIDTH = "() => document.documentElement.scrollWidth"


def test_every_console_page_fits_360_px_with_44_px_targets_and_no_serious_axe_finding(browser, demo_server):
    found = {}
    for scheme in ("light", "dark"):
        for who, path in console_pages(demo_server.flask_app):
            page = phone(browser, demo_server, who, scheme)
            page.goto(demo_server.url + path)
            found[scheme, path] = {
                "width": page.evaluate(PAGE_WIDTH), "small targets": page.evaluate(SMALL_TARGETS, TAPPABLE),
                "broken labels": page.evaluate(BROKEN_LABELS), "axe": serious_violations(page.main_frame)}
            page.context.close()
    bad = {key: {name: value for name, value in checks.items() if value and value != 360}
           for key, checks in found.items()}
    bad = {key: value for key, value in bad.items() if value}
    assert bad == {}, pformat(bad)
    assert len(found) == 2 * len(console_pages(demo_server.flask_app))


def test_the_navigation_wraps_by_whole_words_and_wide_tables_scroll_in_their_own_box(browser, demo_server):
    page = phone(browser, demo_server, "zhouqiang")  # the manager sees the most tabs
    page.goto(demo_server.url + "/console/jobs")
    tabs = page.evaluate(BOXES, ".console-nav a")
    assert [text for text, _, _ in tabs] == ["物料", "数据", "发送审计", "SOP", "企微服务", "渠道", "后台任务"]
    assert len({top for _, _, top in tabs}) <= 2, tabs  # one or two rows of whole words
    box = page.locator(".jobs-periodic .table-scroll")
    sizes = box.evaluate("e => [e.clientWidth, e.scrollWidth]")
    assert sizes[0] < 360 < sizes[1], "the schedule is wider than the phone and scrolls inside its box"
    box.evaluate("e => e.scrollLeft = 1000")
    assert page.evaluate("() => window.scrollX") == 0


def test_the_material_form_is_one_column_at_360_px(browser, demo_server):
    page = phone(browser, demo_server, "zhaomin")
    page.goto(demo_server.url + "/console/materials/new?kind=link")
    lefts = {left for _, left, _ in page.evaluate(BOXES, ".material-form label")}
    assert len(lefts) == 1, lefts


def test_a_content_editor_adds_and_orders_a_category_on_the_phone_and_the_form_offers_it(browser, demo_server):
    page = phone(browser, demo_server, "zhaomin")
    page.goto(demo_server.url + "/console/categories")
    page.get_by_label("新分类名称").fill("基金定投")
    page.get_by_role("button", name="添加分类").click()
    expect(page.locator(".category").last).to_have_attribute("data-category", "基金定投")
    page.get_by_role("button", name="上移 基金定投").click()
    names = page.locator(".category").evaluate_all("items => items.map(item => item.dataset.category)")
    assert names[-2:] == ["基金定投", "服务话术"]
    page.locator('.category[data-category="活动海报"]').get_by_role("button", name="停用").click()
    expect(page.locator('.category[data-category="活动海报"] .state')).to_have_text("已停用")
    page.goto(demo_server.url + "/console/materials/new?kind=image")
    options = page.locator("select[name=category] option").all_text_contents()
    assert options == ["请选择", "产品推介", "市场观点", "投资者教育", "开户引导", "基金定投", "服务话术"]


def test_an_editor_uploads_two_posters_at_once_and_previews_each_as_the_client_will_receive_it(browser, demo_server,
                                                                                               tmp_path):
    from sidebar.materials import samples

    files = []
    for name, colour in (("红包版.png", (220, 40, 40)), ("直播版.png", (40, 40, 220))):
        files.append(tmp_path / name)
        files[-1].write_bytes(samples.png(top=colour))
    page = phone(browser, demo_server, "zhaomin")
    page.goto(demo_server.url + "/console/materials/new?kind=image")
    page.get_by_label("标题").fill("双十一")
    page.locator("select[name=category]").select_option("活动海报")
    page.locator("input[name=file]").set_input_files(files)
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator("table.materials a", has_text="双十一 ·")).to_have_count(2)
    page.get_by_role("link", name="双十一 · 直播版").click()
    preview = page.locator("figure.received")
    expect(preview.locator("img.received-poster")).to_be_visible()
    assert preview.locator("img.received-poster").evaluate("img => img.naturalWidth") > 0
    box = preview.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert page.evaluate(PAGE_WIDTH) == 360


def test_a_reviewer_narrows_figures_to_dates_and_the_audit_to_a_title_on_the_phone(browser, demo_server):
    page = phone(browser, demo_server, "sunli")
    page.goto(demo_server.url + "/console/figures")
    page.locator("input[name=since]").fill("2026-11-01")
    page.locator("input[name=until]").fill("2026-11-30")
    page.get_by_role("button", name="查看").click()
    expect(page.locator(".figures-period")).to_contain_text("2026-11-01 至 2026-11-30")
    assert "since=2026-11-01" in page.url and "until=2026-11-30" in page.url
    page.goto(demo_server.url + "/console/audit")
    expect(page.get_by_label("物料ID")).to_have_count(0)
    page.get_by_label("物料标题").fill("什么是 ETF")
    page.get_by_role("button", name="筛选").click()
    assert "title=" in page.url
    expect(page.get_by_label("物料标题")).to_have_value("什么是 ETF")
    titles = page.locator("table.audit td.wrap a").all_text_contents()
    assert all("什么是 ETF" in title for title in titles)
    assert page.evaluate(PAGE_WIDTH) == 360
