"""The console on a phone (issue 17 item 8): a reviewer at 360 px in real Chromium, light and dark."""
from pprint import pformat

import pytest

from console_helpers import console_pages
from test_craft_browser import BROKEN_LABELS, SMALL_TARGETS, TAPPABLE, phone, serious_violations
from test_craft_browser import page  # noqa: F401  (the pytest fixture test_craft_browser imports)

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
    assert [text for text, _, _ in tabs] == ["物料", "数据", "发送审计", "SOP", "后台任务"]
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
