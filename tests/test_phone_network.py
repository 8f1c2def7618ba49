"""A phone's network: compressed responses, static files cached for a year, a later open fetching none."""
import gzip
import re
from pathlib import Path

import brotli
import pytest
from playwright.sync_api import expect

from helpers import advisors, eventually, login

STATIC = Path(__file__).resolve().parent.parent / "static"


def static_urls(page_html):
    """The static files a page links to, as written in it."""
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', page_html)


def test_pages_fragments_and_static_files_are_compressed_with_brotli_or_gzip(client):
    login(client, "zhangwei")
    page = client.get("/sidebar/", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert page.headers["Content-Encoding"] == "br"
    html = brotli.decompress(page.get_data()).decode()
    assert "csrf-token" in html
    assert "Accept-Encoding" in page.headers["Vary"]

    htmx = client.get("/sidebar/materials", headers={"Accept-Encoding": "gzip", "HX-Request": "true"})
    assert htmx.status_code == 200
    assert htmx.headers["Content-Encoding"] == "gzip"
    assert "<html" not in gzip.decompress(htmx.get_data()).decode()  # the fragment, compressed
    assert {"HX-Request", "Accept-Encoding"} <= set(v.strip() for v in htmx.headers["Vary"].split(","))

    script = next(url for url in static_urls(html) if "htmx" in url)
    raw = (STATIC / script.split("?")[0].removeprefix("/static/")).read_bytes()
    for encoding, decode in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        answer = client.get(script, headers={"Accept-Encoding": encoding}, buffered=True)
        assert answer.headers["Content-Encoding"] == encoding
        body = answer.get_data()
        assert decode(body) == raw and len(body) < len(raw) / 2

    plain = client.get(script, headers={"Accept-Encoding": "identity"}, buffered=True)
    assert "Content-Encoding" not in plain.headers and plain.get_data() == raw


def test_static_files_are_linked_by_content_and_cached_for_a_year(client):
    login(client, "zhangwei")
    html = client.get("/sidebar/").get_data(as_text=True)
    urls = static_urls(html)
    assert len(urls) >= 4  # stylesheet, htmx, the JS-SDK, our scripts
    for url in urls:
        assert re.search(r"\?v=[0-9a-f]{12}$", url), url
        answer = client.get(url, buffered=True)
        assert answer.status_code == 200
        assert answer.cache_control.max_age == 365 * 24 * 3600 and answer.cache_control.immutable, url

    # an old page's URL (another version) or none: the file, but revalidated as before
    path = urls[0].split("?")[0]
    for stale in (path + "?v=000000000000", path):
        answer = client.get(stale, buffered=True)
        assert answer.status_code == 200 and not answer.cache_control.immutable
        assert answer.cache_control.no_cache


@pytest.mark.timeout(120)
def test_a_later_open_of_the_sidebar_requests_only_the_page_and_the_panel(browser, demo_server):
    requested = []
    inner = demo_server.app

    def counting(environ, start_response):
        """Note every path the browser asks the server for."""
        requested.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    demo_server.app = counting
    world = demo_server.emulator.world.as_json()
    userid = advisors(world)[0]
    follow = next(f for f in world["follows"] if f["userid"] == userid)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    url = f"{demo_server.url}/_wecom/client?userid={userid}&chat=contact:{follow['external_userid']}"
    try:
        page.goto(url)
        expect(page.frame_locator("iframe").locator("article.contact")).to_be_visible(timeout=15000)
        first = [path for path in requested if path.startswith("/static/")]
        assert len(first) >= 4, first
        if page.frame_locator("iframe").locator(".sop-slot, .sop-tasks").count():  # the first open's 今日SOP, loaded
            expect(page.frame_locator("iframe").locator(".sop-tasks")).to_be_visible(timeout=15000)
        del requested[:]
        page.locator(f'.chat-item[data-chat="contact:{follow["external_userid"]}"]').first.click()  # WeCom reloads the sidebar
        assert eventually(lambda: any(path.startswith("/sidebar/contacts/") for path in requested), timeout=15)
        expect(page.frame_locator("iframe").locator("article.contact")).to_be_visible(timeout=15000)
        # no static file, and no signature request: the shell carries the signature for its own URL; the
        # 今日SOP fragment only when a task is due in this chat (the demo's mass send makes some), and the
        # timeline not before it is scrolled to
        due = page.frame_locator("iframe").locator(".sop-slot, .sop-tasks").count() > 0
        if due:
            expect(page.frame_locator("iframe").locator(".sop-tasks")).to_be_visible(timeout=15000)
        assert [path for path in requested if not path.startswith("/_wecom/")] == [
            "/sidebar/", f"/sidebar/contacts/{follow['external_userid']}", *(["/sidebar/tasks"] if due else [])]
    finally:
        context.close()
