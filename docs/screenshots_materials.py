"""Screenshots of the material library (360 px, inside the simulated client) and of the console.

Run with `.venv/bin/python docs/screenshots_materials.py` (after `make screenshots` has its fonts).
Writes library.png, library-client.png, console-*.png (console-360-*.png: a phone, light and dark) and
channel-poster-360*.png (an operator's channel page with its poster form, on a phone) to docs/screenshots/.
"""
import pathlib
import sys
import tempfile

from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs"))

from screenshots import ARGS, OUT, serve_demo  # noqa: E402
from sidebar.materials.demo import demo_client_with_class  # noqa: E402
from sidebar.models import china_today  # noqa: E402

ADVISOR = "zhangwei"


def share(sidebar, title):
    """Tap 发送 on a material and wait for its status."""
    item = sidebar.locator("li.material", has_text=title)
    item.locator(".share-button").click()
    item.locator('.share-status:not(:empty)').wait_for()


def library_shots(browser, url, client):
    """The simulated client after two taps (one sent, one blocked), and the sidebar frame itself."""
    page = browser.new_page(viewport={"width": 1280, "height": 760}, locale="zh-CN", device_scale_factor=1)
    page.goto(f"{url}/_wecom/client?userid={ADVISOR}&chat=contact:{client}")
    sidebar = page.frame_locator("iframe")
    sidebar.locator('#tabs [data-tab="library"]').click()
    sidebar.locator(".library").wait_for()
    share(sidebar, "双十一开户福利海报")
    share(sidebar, "科创成长混合基金海报")
    page.screenshot(path=OUT / "library-client.png")
    sidebar.locator(".library").evaluate("el => el.ownerDocument.scrollingElement.scrollTo(0, 0)")
    page.locator("iframe").screenshot(path=OUT / "library.png")
    page.close()


def console_shots(browser, url):
    """The compliance reviewer's console: a material, the figures, the audit."""
    context = browser.new_context(viewport={"width": 1280, "height": 720}, locale="zh-CN")
    context.add_cookies([{"name": "wecom_userid", "value": "sunli", "url": f"{url}/_wecom/"}])
    page = context.new_page()
    for name, path in (("console-materials", "/console/materials"), ("console-audit", "/console/audit"),
                       ("console-figures", "/console/figures")):
        page.goto(url + path)
        page.screenshot(path=OUT / f"{name}.png")
    context.close()


def console_phone_shots(browser, url):
    """The console on a phone (360 px), light and dark: the list, a material with the client's view of
    it, the categories, the figures and the audit."""
    pages = (("materials", "zhaomin", "/console/materials"),
             ("material", "zhaomin", "/console/materials/4"),  # the demo's 新手入门：什么是 ETF
             ("categories", "zhaomin", "/console/categories"), ("figures", "sunli", "/console/figures"),
             ("audit", "sunli", "/console/audit"))
    for scheme, suffix in (("light", ""), ("dark", "-dark")):
        for name, who, path in pages:
            context = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN",
                                          color_scheme=scheme, device_scale_factor=1)
            context.add_cookies([{"name": "wecom_userid", "value": who, "url": f"{url}/_wecom/"}])
            page = context.new_page()
            page.goto(url + path)
            height = min(page.evaluate("document.documentElement.scrollHeight"), 1100)
            page.screenshot(path=OUT / f"console-360-{name}{suffix}.png", full_page=True,
                            clip={"x": 0, "y": 0, "width": 360, "height": height})
            context.close()


def channel_shots(browser, url):
    """An operator's channel page on a phone (360 px), light and dark: the code, a poster chosen to print it on,
    the figures, the arrivals and the edit form."""
    for scheme, suffix in (("light", ""), ("dark", "-dark")):
        context = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN",
                                      color_scheme=scheme, device_scale_factor=2)
        context.add_cookies([{"name": "wecom_userid", "value": "chenjing", "url": f"{url}/_wecom/"}])  # the operator
        page = context.new_page()
        page.goto(url + "/console/channels")
        page.get_by_role("link", name="网点海报").first.click()
        page.locator("form.poster-form select").select_option(label="双十一开户福利海报")
        page.locator("img.channel-qr").evaluate("img => img.complete || new Promise(done => img.onload = done)")
        page.screenshot(path=OUT / f"channel-poster-360{suffix}.png", full_page=True)
        context.close()


def main():
    """Serve the demo, share twice, take the pictures."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url, world = serve_demo(pathlib.Path(tmp) / "demo.db")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            library_shots(browser, url, demo_client_with_class(world, ADVISOR, "C2", china_today()))
            console_shots(browser, url)
            console_phone_shots(browser, url)
            channel_shots(browser, url)
            browser.close()
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
