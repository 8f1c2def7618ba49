"""Take the README's screenshots of issue 16's items 4–6 at 360 px: 客户动态 on the client panel, a
blocked product in the qualified group with 同类可发 and 单独发给群内适合的客户, and 发送前预览.

Run with `.venv/bin/python docs/screenshots_timeline.py`. Writes PNGs to docs/screenshots/.
"""
import pathlib
import sys
import tempfile
from urllib.parse import quote

from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs"))

from screenshots import ARGS, OUT, rich_contact, serve_demo  # noqa: E402
from screenshots_actions import ADVISOR, sidebar  # noqa: E402
from sidebar.materials.demo import QUALIFIED_NAME  # noqa: E402

BLOCKED, PREVIEWED = "雪球结构收益凭证", "新能源行业深度研究"


def timeline(page, url, contact):
    """Change a tag through the panel's edit form, then the panel's 客户动态 once scrolled to."""
    page.goto(f"{url}/sidebar/contacts/{contact}")
    page.locator("details.profile-edit summary").click()
    page.locator("#profile-edit input[name=add_tag]").first.check()
    page.locator("#profile-edit input[name=remove_tag]").first.check()
    with page.expect_response(lambda r: r.url.endswith("/profile") and r.request.method == "POST"):
        page.locator("#profile-edit button[type=submit]").click()
    page.goto(f"{url}/sidebar/contacts/{contact}")
    section = page.locator("section.timeline")
    section.scroll_into_view_if_needed()
    page.locator(".timeline-list .event").first.wait_for(timeout=15000)
    section.screenshot(path=OUT / "timeline-360.png")


def library_item(page, url, chat, title):
    """The library for a chat, searched down to one material; its list item."""
    page.goto(f"{url}/sidebar/materials?chat={quote(chat)}&q={quote(title)}")
    item = page.locator("li.material", has_text=title).first
    item.wait_for(timeout=15000)
    return item


def main():
    """客户动态, a block that leads somewhere (in a group), and the preview before sending."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url, world = serve_demo(pathlib.Path(tmp) / "demo.db")
        contact = rich_contact(world, ADVISOR)
        group = next(g for g in world["groups"] if g["name"] == QUALIFIED_NAME)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            context, page = sidebar(browser, url)
            timeline(page, url, contact)
            item = library_item(page, url, f"group:{group['chat_id']}", BLOCKED)
            item.locator(".direct-button").wait_for(timeout=15000)
            item.screenshot(path=OUT / "blocked-group-360.png")
            item = library_item(page, url, f"contact:{contact}", PREVIEWED)
            item.locator("a.material-text").click()
            item.locator(".material-preview").wait_for(timeout=15000)
            item.screenshot(path=OUT / "preview-360.png")
            context.close()
            browser.close()
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
