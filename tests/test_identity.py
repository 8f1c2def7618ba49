"""Advisor identity: OAuth with the emulator, its refusals, the session, and JS-SDK signatures."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from helpers import advisors, csrf_token, login, make_app, wecom_calls
from sidebar.identity.service import safe_next


def test_entry_without_session_redirects_to_wecom_oauth(client, emulator, app):
    response = client.get("/sidebar/")
    assert response.status_code == 302
    target = urlsplit(response.location)
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{emulator.url}/connect/oauth2/authorize"
    query = parse_qs(target.query)
    assert query["appid"] == [app.config["WECOM_CORP_ID"]]
    assert query["redirect_uri"] == ["http://localhost/auth/callback"]
    assert query["response_type"] == ["code"] and query["scope"] == ["snsapi_base"]
    assert query["agentid"] == [app.config["WECOM_AGENT_ID"]]
    assert re.fullmatch(r"[a-zA-Z0-9]{16,128}", query["state"][0])
    assert target.fragment == "wechat_redirect"


def test_login_round_trip_sets_a_safe_session_and_stores_the_member(client, emulator, world):
    userid = advisors(world)[0]
    done = login(client, userid)
    assert done.status_code == 302 and done.location == "/sidebar/"
    cookie = done.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    shell = client.get("/sidebar/")
    assert shell.status_code == 200
    assert 'data-corp-id="wwdemo0000000001"' in shell.get_data(as_text=True)
    from sidebar.models import Staff
    from sidebar.extensions import db
    with client.application.app_context():
        staff = db.session.get(Staff, userid)
    expected = next(s for s in world["staff"] if s["userid"] == userid)
    assert staff.name == expected["name"]


def test_member_profile_is_fetched_from_wecom_only_once(client, emulator, world):
    userid = advisors(world)[0]
    login(client, userid)
    client.post("/auth/logout", headers={"X-CSRFToken": csrf_token(client)})
    assert client.get("/sidebar/").status_code == 302, "logged out"
    login(client, userid)
    assert wecom_calls(emulator, "/cgi-bin/auth/getuserinfo") == 2
    assert wecom_calls(emulator, "/cgi-bin/user/get") == 1


def test_state_from_another_session_is_refused(app, emulator, world):
    victim, attacker = app.test_client(), app.test_client()
    start = victim.get("/sidebar/")
    authorize = requests.get(start.location, cookies={"wecom_userid": advisors(world)[0]},
                             allow_redirects=False, timeout=5)
    back = urlsplit(authorize.headers["Location"])
    refused = attacker.get(f"{back.path}?{back.query}")
    assert refused.status_code == 400
    assert "登录状态已失效" in refused.get_data(as_text=True)
    assert attacker.get("/sidebar/").status_code == 302, "no session was created"
    assert wecom_calls(emulator, "/cgi-bin/auth/getuserinfo") == 0, "the code was never even tried"


@pytest.mark.parametrize("query", ["code=abc", "code=abc&state=", "state=deadbeef&code=abc"])
def test_missing_or_unknown_state_is_refused(client, query):
    client.get("/sidebar/")  # a pending login exists, but not with this state
    refused = client.get(f"/auth/callback?{query}")
    assert refused.status_code == 400
    assert client.get("/sidebar/").status_code == 302


def test_a_used_code_cannot_log_in_twice(app, emulator, world):
    first, second = app.test_client(), app.test_client()
    start = first.get("/sidebar/")
    authorize = requests.get(start.location, cookies={"wecom_userid": advisors(world)[0]},
                             allow_redirects=False, timeout=5)
    code = parse_qs(urlsplit(authorize.headers["Location"]).query)["code"][0]
    back = urlsplit(authorize.headers["Location"])
    assert first.get(f"{back.path}?{back.query}").status_code == 302
    # the second browser starts its own login (valid state) but replays the used code
    state = parse_qs(urlsplit(second.get("/sidebar/").location).query)["state"][0]
    replay = second.get(f"/auth/callback?code={code}&state={state}")
    assert replay.status_code == 400
    assert "登录码无效或已被使用" in replay.get_data(as_text=True)
    assert second.get("/sidebar/").status_code == 302


def test_login_returns_to_the_page_that_asked_for_it(client, world):
    assert client.get("/sidebar/contacts/wmSomeone").status_code == 302
    done = login_after_redirect(client, advisors(world)[0])
    assert done.location == "/sidebar/contacts/wmSomeone"


def login_after_redirect(client, userid):
    """Finish the OAuth round trip that the last redirect started."""
    start = client.get("/sidebar/contacts/wmSomeone")
    authorize = requests.get(start.location, cookies={"wecom_userid": userid}, allow_redirects=False, timeout=5)
    back = urlsplit(authorize.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


@pytest.mark.parametrize("target, expected", [
    ("/sidebar/contacts/wm1", "/sidebar/contacts/wm1"),
    ("/console/materials?status=pending", "/console/materials?status=pending"),
    ("https://evil.example/sidebar/", "/sidebar/"),
    ("//evil.example/sidebar/", "/sidebar/"),
    ("/\\evil.example/sidebar/", "/sidebar/"),
    ("/sidebar/../auth/logout", "/sidebar/"),
    ("/healthz", "/sidebar/"),
    ("/sidebar/\r\nSet-Cookie:x", "/sidebar/"),
    ("", "/sidebar/"),
])
def test_return_path_comes_from_an_allow_list(target, expected):
    assert safe_next(target) == expected


def test_htmx_without_session_gets_401_and_a_redirect(client):
    response = client.get("/sidebar/contacts/wm1", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/sidebar/"


def test_logout_needs_the_csrf_token(client, world):
    login(client, advisors(world)[0])
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/sidebar/").status_code == 200, "still logged in"
    assert client.post("/auth/logout", headers={"X-CSRFToken": csrf_token(client)}).status_code == 204
    assert client.get("/sidebar/").status_code == 302


def test_a_copy_of_the_session_cookie_opens_nothing_after_logout(app, client, world):
    userid = advisors(world)[0]
    contact = next(f["external_userid"] for f in world["follows"] if f["userid"] == userid)
    login(client, userid)
    elsewhere = app.test_client()  # the same advisor in another browser, logged in on its own
    login(elsewhere, userid)
    copied = app.test_client()
    copied.set_cookie("sidebar_session", client.get_cookie("sidebar_session").value)
    assert copied.get(f"/sidebar/contacts/{contact}").status_code == 200, "the copy works while the session lives"
    assert client.post("/auth/logout", headers={"X-CSRFToken": csrf_token(client)}).status_code == 204
    assert copied.get("/sidebar/").status_code == 302, "back to WeCom's login"
    assert copied.get(f"/sidebar/contacts/{contact}", headers={"HX-Request": "true"}).status_code == 401
    assert copied.get("/jssdk/signature?type=agent&url=http://localhost/sidebar/",
                      headers={"Accept": "application/json"}).status_code == 401
    assert elsewhere.get(f"/sidebar/contacts/{contact}").status_code == 200, "only that session ended"


# --- /jssdk/signature ------------------------------------------------------------------------

def test_signature_needs_a_session(client):
    response = client.get("/jssdk/signature?type=corp&url=http://localhost/sidebar/",
                          headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json["error"]


@pytest.mark.parametrize("query", [
    "type=other&url=http://localhost/sidebar/",
    "type=corp&url=http://evil.example/sidebar/",
    "type=agent&url=http://localhost.evil.example/sidebar/",
    "type=corp&url=https://localhost/sidebar/",
    "type=corp&url=/sidebar/",
    "type=corp",
])
def test_signature_is_refused_for_bad_type_or_foreign_url(client, world, query):
    login(client, advisors(world)[0])
    response = client.get(f"/jssdk/signature?{query}", headers={"Accept": "application/json"})
    assert response.status_code == 400


@pytest.mark.parametrize("kind", ["corp", "agent"])
def test_signature_verifies_against_wecom_tickets(client, app, emulator, world, kind):
    login(client, advisors(world)[0])
    url = "http://localhost/sidebar/?from=chat"
    signed = client.get(f"/jssdk/signature?type={kind}&url={url}").json
    assert set(signed) == {"timestamp", "nonceStr", "signature"}
    verdict = requests.post(f"{emulator.url}/jsapi/verify", json={
        "type": kind, "url": url, "corpid": app.config["WECOM_CORP_ID"], "agentid": app.config["WECOM_AGENT_ID"],
        **signed}, timeout=5).json()
    assert verdict["ok"] is True
    tampered = requests.post(f"{emulator.url}/jsapi/verify", json={
        "type": kind, "url": url + "&x=1", "corpid": app.config["WECOM_CORP_ID"],
        "agentid": app.config["WECOM_AGENT_ID"], **signed}, timeout=5).json()
    assert tampered["ok"] is False


def test_warm_signature_makes_no_wecom_call(client, emulator, world):
    login(client, advisors(world)[0])
    client.get("/jssdk/signature?type=corp&url=http://localhost/sidebar/")
    client.get("/jssdk/signature?type=agent&url=http://localhost/sidebar/")
    before = wecom_calls(emulator)
    for kind in ("corp", "agent", "corp"):
        assert client.get(f"/jssdk/signature?type={kind}&url=http://localhost/sidebar/").status_code == 200
    assert wecom_calls(emulator) == before


def test_a_refused_ticket_is_renewed_once_for_every_worker_within_five_minutes(app, client, emulator, world, tmp_path):
    login(client, advisors(world)[0])
    url = "http://localhost/sidebar/"
    assert client.get(f"/jssdk/signature?type=agent&url={url}").status_code == 200  # the ticket is cached
    fetched = wecom_calls(emulator, "/cgi-bin/ticket/get")
    token = csrf_token(client)
    assert client.post("/jssdk/signature/refused", data={"type": "agent"}).status_code == 400, "needs the CSRF token"
    assert client.post("/jssdk/signature/refused", data={"type": "x"},
                       headers={"X-CSRFToken": token}).status_code == 400
    assert client.post("/jssdk/signature/refused", data={"type": "agent"},
                       headers={"X-CSRFToken": token}).status_code == 204
    other_worker = make_app(tmp_path / "sidebar.db", emulator.url).test_client()  # the same database
    login(other_worker, advisors(world)[1])
    again = other_worker.post("/jssdk/signature/refused", data={"type": "agent"},
                              headers={"X-CSRFToken": csrf_token(other_worker), "Accept": "application/json"})
    assert again.status_code == 429 and int(again.headers["Retry-After"]) == 300
    for browser in (client, other_worker, client):
        assert browser.get(f"/jssdk/signature?type=agent&url={url}").status_code == 200
    assert wecom_calls(emulator, "/cgi-bin/ticket/get") == fetched + 1, "one new ticket for everyone"
    assert client.post("/jssdk/signature/refused", data={"type": "corp"},
                       headers={"X-CSRFToken": token}).status_code == 204, "each kind has its own gap"


def test_roles_command_grants_lists_and_revokes(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["roles", "grant", "sunli", "compliance"]).exit_code == 0
    assert runner.invoke(args=["roles", "grant", "sunli", "compliance"]).exit_code == 0, "idempotent"
    assert runner.invoke(args=["roles", "grant", "zhaomin", "content"]).exit_code == 0
    listing = runner.invoke(args=["roles", "list"]).output.splitlines()
    assert [line.split("\t")[:2] for line in listing] == [["sunli", "compliance"], ["zhaomin", "content"]]
    assert runner.invoke(args=["roles", "grant", "sunli", "admin"]).exit_code != 0
    assert runner.invoke(args=["roles", "revoke", "sunli", "compliance"]).exit_code == 0
    missing = runner.invoke(args=["roles", "revoke", "sunli", "compliance"])
    assert missing.exit_code != 0 and "does not have" in missing.output
    assert runner.invoke(args=["roles", "list"]).output.split("\t")[0] == "zhaomin"


def test_a_non_member_is_refused(client, emulator):
    start = client.get("/sidebar/")
    authorize = requests.get(start.location.split("#")[0].replace("/connect/oauth2/authorize", "/connect/oauth2/login")
                             + "&as_outsider=1", allow_redirects=False, timeout=5)
    assert authorize.status_code == 302, authorize.text
    back = urlsplit(authorize.headers["Location"])
    refused = client.get(f"{back.path}?{back.query}")
    assert refused.status_code == 400
    assert client.get("/sidebar/").status_code == 302


def test_a_script_fetch_without_session_gets_401_and_no_login_cookie(client):
    """Only a navigation can follow WeCom's login page; a fetch must not start (and race) a login."""
    response = client.get("/sidebar/", headers={"Sec-Fetch-Mode": "cors"})
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers
    assert client.get("/sidebar/", headers={"Sec-Fetch-Mode": "navigate"}).status_code == 302
