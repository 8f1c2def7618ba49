"""Take the README's screenshots: the demo served on a loopback port, Debian's Chromium.

Run with `make screenshots`. Writes PNGs to docs/screenshots/.
"""
import pathlib
import sys
import tempfile
import threading

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sidebar import create_app  # noqa: E402
from sidebar.demo import emulated_settings, prepare_demo  # noqa: E402
from sidebar.demo_data import demo_profiles  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def serve_demo(db_path):
    """Serve app + emulator like `flask --app wsgi demo`, on a free port; returns (url, world)."""
    holder = {}
    server = make_server("127.0.0.1", 0, lambda env, start: holder["app"](env, start), threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app = create_app({"SIDEBAR_MODE": "demo", "SIDEBAR_DATABASE_URL": f"sqlite:///{db_path}",
                      **emulated_settings(url)})
    holder["app"], emulator = prepare_demo(app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return url, emulator.world.as_json()


def rich_contact(world, advisor):
    """A client of the advisor who has traded, with a trend, a mix and profile tags."""
    rows = {r["account_id"]: r for r in demo_profiles(world)}.values()
    by_unionid = {r["unionid"]: r for r in rows if r["unionid"]}
    for follow in world["follows"]:
        contact = next(c for c in world["contacts"] if c["external_userid"] == follow["external_userid"])
        row = by_unionid.get(contact["unionid"])
        if follow["userid"] == advisor and row and row["stage"] == "traded" and row["tags"]:
            return follow["external_userid"]
    raise LookupError("no rich contact in the demo seed")


def sidebar_page(browser, url, advisor, path, out, visit=(), height=None, scheme="light"):
    """A sidebar page opened directly at WeCom's width (360 px), logged in through the emulator.

    `visit`: pages opened first (chats the advisor has had); `height`: cut the picture at this height;
    `scheme`: light or dark, as WeCom's own theme reaches the page (prefers-color-scheme).
    """
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN",
                                  device_scale_factor=2, color_scheme=scheme)
    context.add_cookies([{"name": "wecom_userid", "value": advisor, "url": f"{url}/_wecom/"}])
    page = context.new_page()
    for earlier in visit:
        page.goto(url + earlier)
        page.locator("article").first.wait_for(timeout=15000)
    page.goto(url + path)
    page.locator("article").first.wait_for(timeout=15000)
    if height:
        page.screenshot(path=out, full_page=True, clip={"x": 0, "y": 0, "width": 360, "height": height})
    else:
        page.screenshot(path=out, full_page=True)
    context.close()


def showroom_clients(world, advisor, count=4):
    """A few clients of the advisor in the showroom group, matched by unionid, for the member list."""
    from sidebar.demo_data import showroom

    rows = {r["account_id"]: r for r in demo_profiles(world)}.values()
    unionids = {r["unionid"] for r in rows if r["unionid"] and r["stage"] in ("funded", "traded")}
    members = {m["userid"] for m in showroom(world)["members"]}
    contacts = {c["external_userid"]: c for c in world["contacts"]}
    return [f["external_userid"] for f in world["follows"] if f["userid"] == advisor
            and f["external_userid"] in members and contacts[f["external_userid"]]["unionid"] in unionids][:count]


def main():
    """The simulated client on a client chat, and the two panels at sidebar width, light and dark."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url, world = serve_demo(pathlib.Path(tmp) / "demo.db")
        advisor = next(s["userid"] for s in world["staff"] if s["role"] == "advisor")
        contact = rich_contact(world, advisor)
        group = next(g for g in world["groups"] if g["owner"] == advisor)  # the showroom (样板间)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 760}, locale="zh-CN")
            page.goto(f"{url}/_wecom/client?userid={advisor}&chat=contact:{contact}")
            page.frame_locator("iframe").locator("article.contact").wait_for(timeout=15000)
            page.screenshot(path=OUT / "client.png")
            visited = [f"/sidebar/contacts/{c}" for c in showroom_clients(world, advisor)]
            group_path = f"/sidebar/groups/{group['chat_id']}"
            for scheme, suffix in (("light", ""), ("dark", "-dark")):
                sidebar_page(browser, url, advisor, f"/sidebar/contacts/{contact}", OUT / f"contact-panel{suffix}.png",
                             scheme=scheme)
                sidebar_page(browser, url, advisor, group_path, OUT / f"group-panel{suffix}.png", visit=visited,
                             scheme=scheme)
                visited = ()  # once is enough
            browser.close()
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
