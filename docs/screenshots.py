"""Take the README's screenshots: the demo served on a loopback port, Debian's Chromium.

Run with `make screenshots`. Writes PNGs to docs/screenshots/.
"""
import pathlib
import sys
import tempfile
import threading

from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sidebar import create_app  # noqa: E402
from sidebar.demo import emulated_settings, mount_emulator  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def serve_demo(db_path):
    """Serve app + emulator like `flask --app wsgi demo`, on a free port; returns (url, world)."""
    holder = {}
    server = make_server("127.0.0.1", 0, lambda env, start: holder["app"](env, start), threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app = create_app({"SIDEBAR_MODE": "demo", "SIDEBAR_DATABASE_URL": f"sqlite:///{db_path}",
                      **emulated_settings(url)})
    with app.app_context():
        upgrade()
    holder["app"], emulator = mount_emulator(app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return url, emulator.world.as_json()


def main():
    """Open the simulated client on a client chat and a group chat; save the pictures."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url, world = serve_demo(pathlib.Path(tmp) / "demo.db")
        advisor = next(s["userid"] for s in world["staff"] if s["role"] == "advisor")
        follow = next(f for f in world["follows"] if f["userid"] == advisor and f["remark_mobiles"])
        group = next(g for g in world["groups"] if g["owner"] == advisor)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 760}, locale="zh-CN")
            page.goto(f"{url}/_wecom/client?userid={advisor}&chat=contact:{follow['external_userid']}")
            page.frame_locator("iframe").locator("article.contact").wait_for(timeout=15000)
            page.screenshot(path=OUT / "client.png")
            page.frame_locator("iframe").locator("#panel").screenshot(path=OUT / "contact-panel.png")
            page.goto(f"{url}/_wecom/client?userid={advisor}&chat=group:{group['chat_id']}")
            page.frame_locator("iframe").locator("article.group").wait_for(timeout=15000)
            page.frame_locator("iframe").locator("#panel").screenshot(path=OUT / "group-panel.png")
            browser.close()
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
