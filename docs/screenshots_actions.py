"""Take the README's screenshots of 下一步, the edit form and a reminder on the 工作台, at 360 px.

Run with `.venv/bin/python docs/screenshots_actions.py`. Writes PNGs to docs/screenshots/.
"""
import pathlib
import sys
import tempfile
from datetime import datetime, timedelta

from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs"))

from screenshots import ARGS, OUT, serve_demo  # noqa: E402
from sidebar.models import CHINA  # noqa: E402

ADVISOR = "zhangwei"
WAITING, NEW_TODAY = "wmDemoWaitsForMobile000001", "wmDemoNewToday000000000001"


def sidebar(browser, url, scheme="light"):
    """A page at WeCom's sidebar size, signed in as the advisor through the emulator."""
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN", device_scale_factor=2,
                                  color_scheme=scheme)
    context.add_cookies([{"name": "wecom_userid", "value": ADVISOR, "url": f"{url}/_wecom/"}])
    return context, context.new_page()


def main():
    """下一步 of a prospect (light and dark), the edit form with the reminder, and the 工作台's reminder."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url, _ = serve_demo(pathlib.Path(tmp) / "demo.db")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for scheme, suffix in (("light", ""), ("dark", "-dark")):
                context, page = sidebar(browser, url, scheme)
                page.goto(f"{url}/sidebar/contacts/{WAITING}")
                page.locator("#next-steps").wait_for(timeout=15000)
                page.screenshot(path=OUT / f"next-step-360{suffix}.png", clip={"x": 0, "y": 0, "width": 360, "height": 640})
                context.close()
            context, page = sidebar(browser, url)
            page.goto(f"{url}/sidebar/contacts/{NEW_TODAY}")
            page.locator("details.profile-edit summary").click()
            page.locator("#profile-edit").wait_for(timeout=15000)
            page.locator("details.remind summary").click()
            at = (datetime.now(CHINA) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
            page.fill("input[name=at]", at)
            page.fill("input[name=text]", "问问开户进度")
            page.locator(".remind-form button").click()
            page.locator(".remind-form .saved").wait_for(timeout=15000)
            page.locator("details.profile-edit").scroll_into_view_if_needed()
            page.screenshot(path=OUT / "profile-edit-360.png", full_page=True)
            page.goto(f"{url}/sidebar/today")
            page.locator("#reminders .reminder").first.wait_for(timeout=15000)
            page.locator("#reminders").screenshot(path=OUT / "reminders-360.png")
            context.close()
            browser.close()
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
