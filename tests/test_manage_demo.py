"""The demo's workbench: the branch manager signs in, sees this morning's openings and a new one arrive, at
360 px in both themes; the root of the scope and the restart."""
import re

import pytest
from playwright.sync_api import expect

from helpers import signed_in
from sidebar.extensions import db
from sidebar.manage.demo import DEMO_ACCOUNT, MORNING_OPENINGS, open_one, prepare_morning
from sidebar.models import JourneyEvent


@pytest.fixture
def morning(demo_server):
    """The demo after its thread's first turn: contacts synced, this morning's openings."""
    with demo_server.flask_app.app_context():
        prepare_morning(demo_server.emulator.world.as_json())
        db.session.commit()
    return demo_server


def openings_today(page_text):
    """The number on the 已开户 tile."""
    tile = re.search(r'data-kind="opened">(.*?)</li>', page_text, re.S).group(1)
    return int(re.search(r'data-figure="today">(\d+)<', tile).group(1))


def test_the_demo_manager_sees_the_mornings_openings_attributed_and_a_new_one_arrive(morning):
    app, world = morning.flask_app, morning.emulator.world.as_json()
    manager = signed_in(app, "qianlei")  # head office: every opening the thread makes is theirs to see
    page = manager.get("/manage/openings").get_data(as_text=True)
    with app.app_context():
        demo_openings = db.session.scalar(db.select(db.func.count()).select_from(JourneyEvent).where(
            JourneyEvent.account_id.startswith(DEMO_ACCOUNT), JourneyEvent.kind == "opened"))
        assert demo_openings == MORNING_OPENINGS
        prepare_morning(world)  # a second start the same day opens no more
        db.session.commit()
        assert db.session.scalar(db.select(db.func.count()).select_from(JourneyEvent).where(
            JourneyEvent.account_id.startswith(DEMO_ACCOUNT), JourneyEvent.kind == "opened")) == MORNING_OPENINGS
    before = openings_today(page)
    assert before >= 1 and "顾问：" in page
    with app.app_context():
        assert open_one(world) is not None  # the thread's next turn
    assert openings_today(manager.get("/manage/openings").get_data(as_text=True)) == before + 1
    for path in ("/manage/funnel", "/manage/execution", "/manage/scorecard", "/manage/wall"):
        assert manager.get(path).status_code == 200, path


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_workbench_fits_the_phone_at_360_px(browser, morning, scheme, tmp_path):
    context = browser.new_context(viewport={"width": 360, "height": 760}, color_scheme=scheme)
    context.add_cookies([{"name": "wecom_userid", "value": "zhouqiang", "url": morning.url}])
    page = context.new_page()
    try:
        for path in ("/manage/openings", "/manage/funnel", "/manage/scorecard"):
            page.goto(morning.url + path)
            expect(page.locator(".manage-head h1")).to_be_visible(timeout=15000)
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, f"{path} scrolls sideways"
            small = page.evaluate("""[...document.querySelectorAll('.manage-nav a, .btn, .period input')]
                .filter(e => e.getBoundingClientRect().height < 44).length""")
            assert small == 0, f"{path}: a touch target under 44 px"
            page.screenshot(path=str(tmp_path / f"manage{path.replace('/', '-')}-{scheme}.png"), full_page=True)
        page.goto(morning.url + "/manage/wall")
        expect(page.locator("#wall")).to_be_visible(timeout=15000)
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(11, 18, 32)", "the wall is dark whatever the theme"
        page.set_viewport_size({"width": 1280, "height": 720})  # the branch's TV
        page.screenshot(path=str(tmp_path / f"manage-wall-{scheme}.png"))
    finally:
        context.close()
