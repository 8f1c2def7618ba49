"""The bad-input matrix (issue 8): each hostile or broken input gets a clear error, and nothing is
stored or leaked. One parametrised test walks the issue's list; each case is a small function."""
import logging
import re
import time
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from sqlalchemy import func, select

from helpers import advisors, csrf_token, login, make_app, publish, signed_in, upload
from sidebar import create_app
from sidebar.config import ConfigError
from sidebar.demo import EMULATOR_PREFIX
from sidebar.extensions import db
from sidebar.identity.service import begin_login
from sidebar.materials import samples
from sidebar.models import (CallbackInbox, ClientProfile, ContactMobile, Follow, FollowUpNote, Material,
                            StoredFile, TokenCache)
from sidebar.sync.callback import CallbackCrypto

IMPORT_TOKEN = "matrix-import-token-" + "z" * 24
MB = 1024 * 1024
XSS = '<img src=x onerror="alert(1)"><b hx-on:click="alert(2)" hx-get="/console/audit">x</b>'
CASES = {}


def case(name):
    """Register a matrix row under the issue's wording."""
    def register(check):
        CASES[name] = check
        return check
    return register


def count(app, model):
    """Rows of a model."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def contact_of(world, userid, others=False):
    """A contact userid follows (others=True: one only other advisors follow)."""
    mine = {f["external_userid"] for f in world["follows"] if f["userid"] == userid}
    if not others:
        return sorted(mine)[0]
    return next(f["external_userid"] for f in world["follows"] if f["external_userid"] not in mine)


# -- headers ---------------------------------------------------------------------------------------------

@case("security headers on every response, errors included")
def headers_everywhere(fx):
    client = signed_in(fx.app, fx.advisor)
    mine = contact_of(fx.world, fx.advisor)
    answers = {"page": client.get(f"/sidebar/contacts/{mine}"), "404": client.get("/sidebar/contacts/wmNobody"),
               "400 csrf": client.post(f"/sidebar/contacts/{mine}/notes", data={"body": "x"}),
               "401 htmx": fx.app.test_client().get("/sidebar/materials", headers={"HX-Request": "true"}),
               "405": client.get("/auth/logout"), "static": client.get("/static/css/sidebar.css")}
    answers["static"].close()
    for name, answer in answers.items():
        csp = answer.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in csp and "unsafe" not in csp, name
        assert "object-src 'none'" in csp and "base-uri 'none'" in csp and "frame-ancestors 'self'" in csp, name
        assert answer.headers["X-Content-Type-Options"] == "nosniff", name
        assert answer.headers["Referrer-Policy"], name
    assert "no-store" in answers["page"].headers["Cache-Control"]
    assert "HX-Request" in answers["page"].headers["Vary"]
    secure = client.get(f"/sidebar/contacts/{mine}", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


# -- sessions and OAuth ---------------------------------------------------------------------------

@case("no session: a page goes to OAuth")
def no_session_page(fx):
    response = fx.client.get("/sidebar/contacts/wmAnyone")
    assert response.status_code == 302
    assert "/connect/oauth2/authorize" in response.location
    assert fx.client.get("/sidebar/materials").status_code == 302


@case("no session: htmx gets 401 with HX-Redirect")
def no_session_htmx(fx):
    for url in ("/sidebar/contacts/wmAnyone", "/sidebar/materials", "/console/materials"):
        response = fx.client.get(url, headers={"HX-Request": "true"})
        assert response.status_code == 401, url
        assert response.headers["HX-Redirect"] == "/sidebar/"


def authorize(start_location, userid, state=None):
    """Sign in at the emulator's authorize page; returns the callback's path?query."""
    if state:
        parts = urlsplit(start_location)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()} | {"state": state}
        start_location = urlunsplit(parts._replace(query=urlencode(query)))
    answer = requests.get(start_location, cookies={"wecom_userid": userid}, allow_redirects=False, timeout=5)
    back = urlsplit(answer.headers["Location"])
    return f"{back.path}?{back.query}"


@case("a reused OAuth code")
def reused_code(fx):
    first, second = fx.app.test_client(), fx.app.test_client()
    back = authorize(first.get("/sidebar/").location, fx.advisor)
    assert first.get(back).status_code == 302
    state = parse_qs(urlsplit(second.get("/sidebar/").location).query)["state"][0]
    code = parse_qs(urlsplit(back).query)["code"][0]
    replay = second.get(f"/auth/callback?code={code}&state={state}")
    assert replay.status_code == 400 and "登录码无效或已被使用" in replay.get_data(as_text=True)
    assert second.get("/sidebar/").status_code == 302, "no session"


@case("an expired OAuth code")
def expired_code(fx):
    back = authorize(fx.client.get("/sidebar/").location, fx.advisor)
    requests.post(f"{fx.emulator.url}/_admin/clock", json={"advance": 301}, timeout=5).raise_for_status()
    refused = fx.client.get(back)
    assert refused.status_code == 400 and "登录码无效或已被使用" in refused.get_data(as_text=True)
    assert fx.client.get("/sidebar/").status_code == 302


@case("a missing state")
def missing_state(fx):
    back = authorize(fx.client.get("/sidebar/").location, fx.advisor)
    stripped = re.sub(r"&?state=[^&]*", "", back)
    refused = fx.client.get(stripped)
    assert refused.status_code == 400 and "登录状态已失效" in refused.get_data(as_text=True)
    assert fx.client.get("/sidebar/").status_code == 302


@case("a foreign state")
def foreign_state(fx):
    victim, attacker = fx.app.test_client(), fx.app.test_client()
    attacker.get("/sidebar/")  # the attacker has a pending login of its own, with another state
    back = authorize(victim.get("/sidebar/").location, fx.advisor)
    refused = attacker.get(back)
    assert refused.status_code == 400
    assert attacker.get("/sidebar/").status_code == 302


@case("next pointing to another host")
def next_elsewhere(fx):
    for target in ("https://evil.example/sidebar/", "//evil.example/sidebar/", "/\\evil.example/sidebar/"):
        client = fx.app.test_client()
        start = client.get("/sidebar/").location
        state, pending = begin_login(None, target)
        with client.session_transaction() as session:
            session["oauth"] = pending
        done = client.get(authorize(start, fx.advisor, state=state))
        assert done.status_code == 302 and done.location == "/sidebar/", (target, done.location)


# -- authorisation -------------------------------------------------------------------------------

@case("another advisor's client")
def foreign_client(fx):
    client = signed_in(fx.app, fx.advisor)
    other = contact_of(fx.world, fx.advisor, others=True)
    notes = count(fx.app, FollowUpNote)
    assert client.get(f"/sidebar/contacts/{other}").status_code == 404
    posted = client.post(f"/sidebar/contacts/{other}/notes", data={"body": "偷看", "csrf_token": client.csrf})
    assert posted.status_code == 404
    assert count(fx.app, FollowUpNote) == notes


@case("another advisor's group")
def foreign_group(fx):
    client = signed_in(fx.app, fx.advisor)
    outside = next(g for g in fx.world["groups"]
                   if fx.advisor not in {m["userid"] for m in g["members"] if m["type"] == 1} | {g["owner"]})
    for suffix in ("", "/members", "/conversion"):
        assert client.get(f"/sidebar/groups/{outside['chat_id']}{suffix}").status_code == 404, suffix


# -- CSRF ------------------------------------------------------------------------------------------

@case("a missing CSRF token")
def missing_csrf(fx):
    client = signed_in(fx.app, fx.advisor)
    mine = contact_of(fx.world, fx.advisor)
    notes = count(fx.app, FollowUpNote)
    for headers in ({}, {"HX-Request": "true"}):
        refused = client.post(f"/sidebar/contacts/{mine}/notes", data={"body": "无令牌"}, headers=headers)
        assert refused.status_code == 400 and "页面已过期" in refused.get_data(as_text=True)
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/sidebar/").status_code == 200, "still logged in: logout needs the token"
    assert count(fx.app, FollowUpNote) == notes


@case("a foreign CSRF token")
def foreign_csrf(fx):
    client, other = signed_in(fx.app, fx.advisor), signed_in(fx.app, advisors(fx.world)[1])
    mine = contact_of(fx.world, fx.advisor)
    notes = count(fx.app, FollowUpNote)
    refused = client.post(f"/sidebar/contacts/{mine}/notes", data={"body": "别人的令牌"},
                          headers={"X-CSRFToken": other.csrf, "HX-Request": "true"})
    assert refused.status_code == 400
    console = signed_in(fx.library, "zhaomin")
    assert console.post("/console/materials", data={"csrf_token": other.csrf, "kind": "text",
                                                    "title": "x", "body": "x"}).status_code == 400
    assert count(fx.app, FollowUpNote) == notes and count(fx.library, Material) == 0


# -- uploads ---------------------------------------------------------------------------------------

def nothing_uploaded(app):
    """No material, no stored file row."""
    return count(app, Material) == 0 and count(app, StoredFile) == 0


@case("an upload one byte over the limit")
def upload_too_big(fx):
    editor = signed_in(fx.library, "zhaomin")
    pdf = samples.pdf()
    response = upload(editor, "file", pdf + b"\0" * (20 * MB + 1 - len(pdf)), "big.pdf", "application/pdf")
    assert response.status_code == 413 and "不能超过 20 MB" in response.get_data(as_text=True)
    assert nothing_uploaded(fx.library)


@case("HTML renamed to .pdf, SVG with script")
def upload_markup(fx):
    editor = signed_in(fx.library, "zhaomin")
    html = b"<!doctype html><html><script>fetch('/console/audit')</script></html>"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'
    for kind, data, name in (("file", html, "report.pdf"), ("image", svg, "poster.svg"), ("image", svg, "a.png")):
        response = upload(editor, kind, data, name)
        assert response.status_code == 400 and "不接受 HTML、SVG、XML 或脚本文件" in response.get_data(as_text=True)
    assert nothing_uploaded(fx.library)


@case("filenames with ../, NUL or RTL characters")
def upload_names(fx):
    editor = signed_in(fx.library, "zhaomin")
    names = {"../../x.pdf": "x.pdf", "re\x00port.pdf": "report.pdf", "evil\u202efdp.exe": "evilfdp.pdf"}
    for index, (name, shown) in enumerate(names.items()):
        data = samples.pdf() + b"%" + str(index).encode()  # a different file each time
        response = upload(editor, "file", data, name, "application/pdf")
        assert response.status_code == 303, (name, response.status_code)
        assert _file_names(fx.library)[-1] == shown, name
    files = _upload_paths(fx.library)
    assert len(files) == 3 and all(re.fullmatch(r"[0-9a-f]{64}", p.rsplit("/", 1)[-1]) for p in files), files


def _file_names(app):
    """The display names of the uploaded files, oldest first."""
    from sidebar.models import MaterialVersion

    with app.app_context():
        return list(db.session.scalars(select(MaterialVersion.file_name).order_by(MaterialVersion.id)))


def _upload_paths(app):
    """Every file under the upload folder."""
    import os

    root = app.config["SIDEBAR_UPLOAD_DIR"]
    return [os.path.join(d, f) for d, _, names in os.walk(root) for f in names]


# -- callbacks -------------------------------------------------------------------------------------

EVENT = ("<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
         "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType>"
         "<Event><![CDATA[change_external_tag]]></Event><Id><![CDATA[etX]]></Id>"
         "<TagType><![CDATA[tag]]></TagType><ChangeType><![CDATA[create]]></ChangeType></xml>")
BOMB = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]><xml><Event>&lol3;</Event></xml>')


def deliver(app, params, body):
    """POST a callback as WeCom would; the response, closed so deferred work runs."""
    response = app.test_client().post("/wecom/callback", query_string=params, data=body, content_type="text/xml")
    response.close()
    return response


@case("a callback with a bad signature, a foreign corp id, an XML entity bomb")
def callback_refusals(fx):
    config = fx.app.config
    ours = CallbackCrypto(config["WECOM_TOKEN"], config["WECOM_AES_KEY"], config["WECOM_CORP_ID"])
    foreign = CallbackCrypto(config["WECOM_TOKEN"], config["WECOM_AES_KEY"], "wwsomeoneelse00001")
    event, now = EVENT.format(corp=config["WECOM_CORP_ID"]), int(time.time())
    params, body = ours.envelope(event, now, 1)
    for name, (p, b) in {"bad signature": ({**params, "msg_signature": "f" * 40}, body),
                         "foreign corp": foreign.envelope(event, now, 1),
                         "entity bomb": ours.envelope(BOMB, now, 1)}.items():
        response = deliver(fx.app, p, b)
        assert 400 <= response.status_code < 500, (name, response.status_code)
    assert count(fx.app, CallbackInbox) == 0


@case("a replayed callback")
def callback_replay(fx):
    config = fx.app.config
    ours = CallbackCrypto(config["WECOM_TOKEN"], config["WECOM_AES_KEY"], config["WECOM_CORP_ID"])
    params, body = ours.envelope(EVENT.format(corp=config["WECOM_CORP_ID"]), int(time.time()), 7)
    first, again = deliver(fx.app, params, body), deliver(fx.app, params, body)
    assert first.status_code == again.status_code == 200 and again.get_data() == b""
    assert count(fx.app, CallbackInbox) == 1, "a replay is answered alike and stored once"


# -- markup in data ----------------------------------------------------------------------------------

def assert_inert(html):
    """The hostile markup shows as text: no live <img onerror> or hx-on attribute."""
    live = [m for m in re.findall(r"<(?:img|b)\b[^>]*>", html) if "onerror" in m or "hx-on" in m]
    assert not live, live[:2]
    assert "&lt;img src=x onerror=" in html


@case("a client tag containing <img onerror> and hx-on")
def tag_markup(fx):
    from sidebar.sync.profiles import import_profiles

    contact = next(c for c in fx.world["contacts"] if c["unionid"]
                   and any(f["userid"] == fx.advisor and f["external_userid"] == c["external_userid"]
                           for f in fx.world["follows"]))
    with fx.app.app_context():
        result = import_profiles([{"account_id": "880009990001", "unionid": contact["unionid"], "name": XSS[:28],
                                   "stage": "funded", "tags": [XSS[:28], '<b hx-on:click="alert(2)">x</b>']}])
        db.session.commit()
    assert result.accepted == 1, result.rejected
    client = signed_in(fx.app, fx.advisor)
    for headers in ({}, {"HX-Request": "true"}):
        page = client.get(f"/sidebar/contacts/{contact['external_userid']}", headers=headers)
        assert page.status_code == 200
        assert_inert(page.get_data(as_text=True))


@case("a material title containing <img onerror> and hx-on")
def title_markup(fx):
    title = '<img src=x onerror="alert(1)"><b hx-on:click="alert(2)">x</b>'  # within the 64 a title holds
    publish(fx.library, title=title, summary=XSS)
    for userid, url in ((fx.advisor, "/sidebar/materials"), ("zhaomin", "/console/materials"),
                        ("sunli", "/console/audit")):
        page = signed_in(fx.library, userid).get(url)
        assert page.status_code == 200, url
        html = page.get_data(as_text=True)
        if url != "/console/audit":
            assert_inert(html)
        assert not [m for m in re.findall(r"<[a-z]+\b[^>]*>", html) if "onerror" in m or "hx-on" in m], url


# -- the import API ------------------------------------------------------------------------------------

def post_import(client, body, token=IMPORT_TOKEN, **kwargs):
    """POST to the import API with a bearer token (None: no header)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/api/v1/client-profiles", data=body, headers=headers,
                       content_type="application/json", **kwargs)


@case("a profile import with wrong types")
def import_wrong_types(fx):
    client = fx.api.test_client()
    assert post_import(client, '{"account_id": "880001234567"}').status_code == 400  # not an array
    assert post_import(client, "[NaN]").status_code == 400
    answer = post_import(client, '[{"account_id": 880001234567, "total_assets": "lots", "stage": 5}]')
    assert answer.status_code == 200
    assert answer.json["accepted"] == 0 and answer.json["rejected"][0]["index"] == 0
    assert count(fx.api, ClientProfile) == 0


@case("a profile import with a 20 MB body")
def import_huge(fx):
    answer = post_import(fx.api.test_client(), b"[" + b" " * (20 * MB) + b"]")
    assert answer.status_code == 413
    assert count(fx.api, ClientProfile) == 0


@case("a profile import with a missing or wrong token")
def import_no_token(fx):
    client = fx.api.test_client()
    body = '[{"account_id": "880001234567", "stage": "funded"}]'
    for token in (None, "wrong", IMPORT_TOKEN[:-1]):
        answer = post_import(client, body, token=token)
        assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Bearer"), token
    assert count(fx.api, ClientProfile) == 0


# -- tracked links and settings ---------------------------------------------------------------------------

@case("a tracked-link token that does not exist")
def unknown_link(fx):
    client = fx.library.test_client()
    for token in ("nosuchtoken000000000000", "../../etc/passwd", "x" * 300):
        assert client.get(f"/r/{token}").status_code == 404, token
        assert client.get(f"/r/{token}/cover").status_code == 404, token


@case("a setting missing or malformed at start")
def bad_settings(fx):
    good = {"SIDEBAR_MODE": "production", "SIDEBAR_SECRET_KEY": "k" * 40, "WECOM_CORP_ID": "ww1436e0e65a779aee",
            "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": "s3cret", "SIDEBAR_PUBLIC_URL": "https://sidebar.example.com",
            "SIDEBAR_DATABASE_URL": f"sqlite:///{fx.tmp_path}/p.db"}
    for name, value in (("SIDEBAR_SECRET_KEY", None), ("SIDEBAR_SECRET_KEY", "short"), ("WECOM_AGENT_ID", "abc"),
                        ("WECOM_SECRET", None), ("SIDEBAR_PUBLIC_URL", None), ("SIDEBAR_MODE", "debug")):
        with pytest.raises(ConfigError) as refused:
            create_app({k: v for k, v in {**good, name: value}.items() if v is not None})
        assert name in str(refused.value), (name, value)


# -- the runner ----------------------------------------------------------------------------------------------

class Fixtures:
    """What the cases need, created lazily (most cases need only the plain app)."""

    def __init__(self, request):
        self._request = request

    def __getattr__(self, name):
        """Build fixtures on first use."""
        factory = {"app": lambda: self._request.getfixturevalue("app"),
                   "client": lambda: self.app.test_client(),
                   "emulator": lambda: self._request.getfixturevalue("emulator"),
                   "world": lambda: self._request.getfixturevalue("world"),
                   "advisor": lambda: advisors(self.world)[0],
                   "tmp_path": lambda: self._request.getfixturevalue("tmp_path"),
                   "library": lambda: self._request.getfixturevalue("library_app"),
                   "api": lambda: make_app(self._request.getfixturevalue("tmp_path") / "api.db", self.emulator.url,
                                           SIDEBAR_IMPORT_TOKEN=IMPORT_TOKEN)}[name]
        value = factory()
        setattr(self, name, value)
        return value


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(request, name):
    CASES[name](Fixtures(request))


# -- nothing leaks: pages and log lines ----------------------------------------------------------------------

def secrets_of(app, emulator_state):
    """Every full mobile, account id, access token and secret the demo holds."""
    with app.app_context():
        values = set(db.session.scalars(select(ClientProfile.account_id)))
        values |= {m for m in db.session.scalars(select(ClientProfile.mobile)) if m}
        values |= set(db.session.scalars(select(ContactMobile.mobile)))
        for mobiles in db.session.scalars(select(Follow.remark_mobiles)):
            values |= set(mobiles or [])
        values |= {v for v in db.session.scalars(select(TokenCache.value)) if v}
    for kind in emulator_state.credentials.leases.values():
        values |= set(kind)
        values |= {lease.value for lease in kind.values() if hasattr(lease, "value")}
    values |= {app.config["WECOM_SECRET"], app.config["SIDEBAR_SECRET_KEY"], app.config["WECOM_AES_KEY"]}
    return {v for v in values if v and len(v) >= 8}


def pages_of(client, app, world, userid):
    """Every sidebar and console page this user can open, fetched as page and as fragment."""
    with app.app_context():
        materials = db.session.scalars(select(Material.id)).all()
    contacts = [f["external_userid"] for f in world["follows"] if f["userid"] == userid]
    groups = [g["chat_id"] for g in world["groups"]
              if userid == g["owner"] or userid in {m["userid"] for m in g["members"]}]
    urls = ["/sidebar/", "/sidebar/materials"] + [f"/sidebar/contacts/{c}" for c in contacts]
    for chat_id in set(groups):
        urls += [f"/sidebar/groups/{chat_id}", f"/sidebar/groups/{chat_id}/members",
                 f"/sidebar/groups/{chat_id}/conversion"]
    urls += ["/console/", "/console/materials", "/console/materials/new", "/console/figures", "/console/audit"]
    urls += [f"/console/materials/{m}" for m in materials]
    for url in urls:
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(url, headers=headers)
            yield url, response.status_code, response.get_data(as_text=True)


@pytest.fixture
def demo_logged(caplog):
    """Logging at production's level from before the demo is prepared."""
    caplog.set_level(logging.INFO)
    return caplog


def test_no_page_or_log_line_holds_a_full_mobile_account_token_or_secret(demo_logged, demo_server, caplog):  # production's level (urllib3's DEBUG lines name every URL it fetches)
    app = demo_server.flask_app
    state = demo_server.emulator.extensions["wecom_emulator"]
    opened = 0
    world = requests.get(f"{demo_server.url}{EMULATOR_PREFIX}/_admin/world", timeout=5).json()
    seeded = {m for f in world["follows"] for m in f["remark_mobiles"]}
    seeded |= {s["mobile"] for s in world["staff"] if s.get("mobile")}
    assert len(seeded) > 10
    for userid in advisors(world)[:3] + ["zhaomin", "sunli", "zhouqiang"]:
        client = app.test_client()
        login(client, userid)
        csrf_token(client)
        secrets = secrets_of(app, state) | seeded  # read after login: the tokens exist by now
        assert len(secrets) > 20, "the demo holds mobiles, accounts and tokens to look for"
        for url, status, html in pages_of(client, app, world, userid):
            opened += status == 200
            leaked = [s for s in secrets if s in html]
            assert not leaked, (url, leaked[:3])
    assert opened > 50
    # werkzeug's lines here are the emulator's own access log (WeCom's side), not the app's
    records = caplog.get_records("setup") + caplog.get_records("call")
    logged = "\n".join(r.getMessage() for r in records if r.name != "werkzeug")
    secrets = secrets_of(app, state) | seeded
    assert not [s for s in secrets if s in logged]
