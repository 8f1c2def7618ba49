"""Take the README's screenshots of the branch manager's workbench: 开户实况 at 360 px as a branch manager
sees it on the phone, 企微服务 at 360 px, 大屏设备 (a TV set up from the phone), and the 大屏 wall view at
1280 × 720, as the manager opens it and as the branch's TV shows it once paired.

Run with `.venv/bin/python docs/screenshots_manage.py`. Writes PNGs to docs/screenshots/.
"""
import pathlib
import sys
import tempfile

from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs"))

from screenshots import ARGS, OUT, serve_demo  # noqa: E402
from sidebar import create_app  # noqa: E402
from sidebar.demo import emulated_settings  # noqa: E402
from sidebar.manage.demo import prepare_morning  # noqa: E402

MANAGER = "zhouqiang"  # 营业部负责人 of one branch


def morning(db_path, url, world):
    """What the demo's openings thread does first: contacts from WeCom, this morning's openings."""
    app = create_app({"SIDEBAR_MODE": "demo", "SIDEBAR_DATABASE_URL": f"sqlite:///{db_path}", **emulated_settings(url)})
    with app.app_context():
        prepare_morning(world)


def set_up_tv(page, url):
    """The manager sets up the lobby TV at 360 px (the page is photographed with its link); the link."""
    page.goto(url + "/manage/walls")
    page.locator("input[name=name]").fill("大堂电视")
    page.get_by_role("button", name="生成登录链接").click()
    link = page.locator(".wall-url").inner_text(timeout=15000)
    page.screenshot(path=OUT / "manage-walls-360.png", full_page=True)
    return link


def main():
    """The phone pages and the wall."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db_path = pathlib.Path(tmp) / "demo.db"
        url, world = serve_demo(db_path)
        morning(db_path, url, world)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            phone = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN", device_scale_factor=1)
            phone.add_cookies([{"name": "wecom_userid", "value": MANAGER, "url": f"{url}/_wecom/"}])
            page = phone.new_page()
            for path, name in (("/manage/openings", "manage-openings-360"), ("/manage/activity", "manage-activity-360")):
                page.goto(url + path)
                page.locator("h1").first.wait_for(timeout=15000)
                page.screenshot(path=OUT / f"{name}.png", full_page=True)
            link = set_up_tv(page, url)
            tv = browser.new_context(viewport={"width": 1280, "height": 720}, locale="zh-CN")
            screen = tv.new_page()
            screen.goto(link)
            screen.get_by_role("button", name="登录大屏").click()
            screen.locator("#wall").wait_for(timeout=15000)
            screen.screenshot(path=OUT / "manage-wall-tv.png")
            wall = browser.new_context(viewport={"width": 1280, "height": 720}, locale="zh-CN")
            wall.add_cookies([{"name": "wecom_userid", "value": MANAGER, "url": f"{url}/_wecom/"}])
            page = wall.new_page()
            page.goto(url + "/manage/wall")
            page.locator("#wall").wait_for(timeout=15000)
            page.screenshot(path=OUT / "manage-wall.png")
            browser.close()
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
