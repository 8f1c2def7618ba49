"""Every sidebar and console page in real Chromium under the enforced CSP: no console error (Chromium
reports CSP violations as console errors), no page error, nothing left in localStorage."""
import pytest
from playwright.sync_api import expect

from helpers import advisors

pytestmark = pytest.mark.timeout(240)


def sidebar_urls(world, userid, materials):
    """The sidebar pages of one advisor: a client, a group with its members and conversion, the library."""
    contact = next(f["external_userid"] for f in world["follows"] if f["userid"] == userid)
    group = next(g["chat_id"] for g in world["groups"] if g["owner"] == userid)
    return [f"/sidebar/contacts/{contact}", f"/sidebar/groups/{group}", f"/sidebar/groups/{group}/members",
            f"/sidebar/groups/{group}/conversion", f"/sidebar/materials?chat=contact:{contact}",
            f"/sidebar/materials?chat=group:{group}", "/sidebar/materials"], contact, group


def console_urls(materials):
    """The content editor's console pages, a material's detail and edit form included."""
    first = materials[0]
    return ["/console/", "/console/materials", "/console/materials?status=pending", "/console/materials/new",
            f"/console/materials/{first}", f"/console/materials/{first}/edit"]


def test_every_page_runs_under_the_csp_without_console_errors(browser, demo_server):
    from sidebar.extensions import db
    from sidebar.models import Material

    with demo_server.flask_app.app_context():
        materials = db.session.scalars(db.select(Material.id).order_by(Material.id)).all()
    world = demo_server.emulator.world.as_json()
    userid = advisors(world)[0]
    urls, contact, group = sidebar_urls(world, userid, materials)
    visits = [(userid, url) for url in urls] + [("zhaomin", url) for url in console_urls(materials)]
    visits += [("sunli", "/console/audit"), ("sunli", "/console/materials?status=pending"),
               ("zhouqiang", "/console/figures"), ("zhouqiang", "/console/jobs")]

    problems, opened = [], 0
    for who in dict.fromkeys(v[0] for v in visits):
        context = browser.new_context(viewport={"width": 360 if who == userid else 1280, "height": 800},
                                      locale="zh-CN")
        context.add_cookies([{"name": "wecom_userid", "value": who, "url": f"{demo_server.url}/_wecom/"}])
        page = context.new_page()
        page.on("console", lambda m: m.type in ("error", "warning") and problems.append((page.url, m.type, m.text)))
        page.on("response", lambda r: r.status >= 400 and problems.append((r.url, "status", r.status)))
        page.on("pageerror", lambda e: problems.append((page.url, "pageerror", str(e))))
        for url in (u for w, u in visits if w == who):
            response = page.goto(demo_server.url + url)
            assert response.status == 200, (who, url, response.status)
            assert "script-src 'self'" in response.headers["content-security-policy"]
            page.wait_for_load_state("networkidle")
            opened += 1
        if who == userid:  # the shell inside the simulated client: JS-SDK, htmx panels, the library tab
            for chat in (f"contact:{contact}", f"group:{group}"):
                page.goto(f"{demo_server.url}/_wecom/client?userid={userid}&chat={chat}")
                sidebar = page.frame_locator("iframe")
                expect(sidebar.locator("article.card")).to_be_visible(timeout=15000)
                sidebar.locator('#tabs [data-tab="library"]').click()
                expect(sidebar.locator(".library")).to_be_visible()
                page.wait_for_load_state("networkidle")
                assert page.evaluate("() => document.querySelector('iframe').contentWindow.localStorage.length") == 0
        page.goto(demo_server.url + "/sidebar/materials" if who == userid else demo_server.url + "/console/")
        assert page.evaluate("() => localStorage.length") == 0, who
        context.close()
    assert opened == len(visits)
    assert problems == []
