"""The branch's TV in Chromium: it opens the pairing link once and confirms, lands on its dark wall with the link
gone from the address bar, the cookie out of the page's reach, and the wall's own refresh carries the cookie and
shows a new opening; a manager sets a TV up on the phone."""
from datetime import datetime

from playwright.sync_api import expect

from helpers import LiveServer, signed_in
from manage_helpers import MANAGER
from sidebar.extensions import db
from sidebar.models import CHINA
from sidebar.sync.profiles import import_profiles
from test_manage_walls import OURS, SCREEN, THEIRS, set_up_wall, wall_app  # noqa: F401 (the fixture)

NEW = "李娜"  # the advisor of the opening that comes in while the TV watches


def test_the_tv_pairs_once_and_its_wall_refreshes(browser, wall_app):
    _, _, path = set_up_wall(signed_in(wall_app, MANAGER), 3)
    server = LiveServer(wall_app)
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.clock.install()  # the page's own 30 s poll, fast-forwarded below
    try:
        page.goto(server.url + path)
        page.get_by_role("button", name="登录大屏").click()
        expect(page.locator("#wall")).to_contain_text(OURS, timeout=15000)
        assert page.url == server.url + SCREEN, "the link leaves the address bar"
        assert "sidebar_wall" not in page.evaluate("document.cookie"), "the page's scripts cannot read it"
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(11, 18, 32)"
        assert THEIRS not in page.content()
        today = datetime.now(CHINA).date().isoformat()
        with wall_app.app_context():
            from manage_helpers import add_contact

            add_contact("wo_n", "lina", "2026-10-01 10:00", name="客户n", unionid="u_wo_n")
            db.session.commit()
            assert import_profiles([{"account_id": "880000000105", "unionid": "u_wo_n", "stage": "opened",
                                     "stage_dates": {"registered": today, "opened": today}}]).accepted == 1
        with page.expect_response(lambda r: r.url.endswith(SCREEN)) as refreshed:
            page.clock.run_for(31_000)
        assert refreshed.value.status == 200, refreshed.value.status
        assert refreshed.value.request.headers.get("hx-request") == "true", "the fragment, not the page"
        expect(page.locator("#wall")).to_contain_text(NEW, timeout=15000)
    finally:
        context.close()
        server.stop()


def test_a_manager_sets_up_a_tv_on_the_phone(browser, wall_app, emulator):
    server = LiveServer(wall_app)
    context = browser.new_context(viewport={"width": 360, "height": 760})
    context.add_cookies([{"name": "wecom_userid", "value": MANAGER, "url": emulator.url}])
    page = context.new_page()
    try:
        page.goto(server.url + "/manage/walls")
        expect(page.get_by_role("heading", name="大屏设备")).to_be_visible(timeout=15000)
        page.get_by_label("名称").fill("大堂电视")
        page.get_by_role("button", name="生成登录链接").click()
        expect(page.locator(".wall-url")).to_contain_text("/manage/wall/pair/", timeout=15000)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, "the page scrolls sideways"
        small = page.evaluate("""[...document.querySelectorAll('.manage-nav a, .btn, select, input:not([type=hidden])')]
            .filter(e => e.getBoundingClientRect().height < 44).map(e => e.textContent || e.name)""")
        assert small == [], f"touch targets under 44 px: {small}"
        expect(page.locator("tr[data-wall]")).to_contain_text("等待电视打开链接")
    finally:
        context.close()
        server.stop()
