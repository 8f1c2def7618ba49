"""The WeCom emulator over real HTTP: server API, switches, OAuth, JS-SDK checks and the seed."""
import hashlib
import threading
from urllib.parse import parse_qs, urlsplit

import time

import pytest
import requests
from helpers import LiveServer
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from sidebar.emulator import create_emulator
from sidebar.emulator.credentials import jsapi_signature

CORP_ID = "wwdemo0000000001"
AGENT_ID = "1000002"
SECRET = "demo-secret-do-not-use-in-production"
REDIRECT = "https://sidebar.example.com/auth/callback"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
# wecom.md §1, the official signature vector.
VECTOR = {
    "ticket": "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
    "nonceStr": "Wm3WZYTPz0wzccnW", "timestamp": "1414587457", "url": "http://mp.weixin.qq.com?params=value",
    "signature": "0f9de62fce790f9a083d5c99e95740ceb90c27ed",
}


def get(server, path, **params):
    """GET an emulator path and return the JSON answer."""
    response = requests.get(server.url + path, params=params, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def post(server, path, body, **params):
    """POST JSON to an emulator path and return the JSON answer."""
    response = requests.post(server.url + path, params=params, json=body, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def admin(server, path, body=None, method="POST"):
    """Call a /_admin switch."""
    response = requests.request(method, server.url + "/_admin/" + path, json=body, timeout=5)
    response.raise_for_status()
    return response.json()


def token(server):
    """A live access token."""
    answer = get(server, "/cgi-bin/gettoken", corpid=CORP_ID, corpsecret=SECRET)
    assert answer["errcode"] == 0, answer
    return answer["access_token"]


def world(server):
    """The emulator's world as JSON."""
    return requests.get(server.url + "/_admin/world", timeout=5).json()


def state_of(server):
    """The in-process state of the emulator behind a LiveServer."""
    return server.emulator.extensions["wecom_emulator"]


# -- tokens and tickets -------------------------------------------------------------------


def test_gettoken_repeats_the_live_token(emulator):
    first = get(emulator, "/cgi-bin/gettoken", corpid=CORP_ID, corpsecret=SECRET)
    second = get(emulator, "/cgi-bin/gettoken", corpid=CORP_ID, corpsecret=SECRET)
    assert first["errmsg"] == "ok" and 0 < first["expires_in"] <= 7200
    assert second["access_token"] == first["access_token"]


@pytest.mark.parametrize("params, errcode", [
    ({"corpid": "wwsomeoneelse", "corpsecret": SECRET}, 40013),
    ({"corpid": CORP_ID, "corpsecret": "wrong"}, 40001),
    ({"corpsecret": SECRET}, 41002),
    ({"corpid": CORP_ID}, 41004),
])
def test_gettoken_refuses_bad_credentials(emulator, params, errcode):
    answer = get(emulator, "/cgi-bin/gettoken", **params)
    assert answer["errcode"] == errcode
    assert "access_token" not in answer


def test_missing_and_unknown_tokens(emulator):
    assert get(emulator, "/cgi-bin/get_jsapi_ticket")["errcode"] == 41001
    assert get(emulator, "/cgi-bin/get_jsapi_ticket", access_token="made-up")["errcode"] == 40014


def test_tickets_of_both_kinds(emulator):
    access = token(emulator)
    corp = get(emulator, "/cgi-bin/get_jsapi_ticket", access_token=access)
    agent = get(emulator, "/cgi-bin/ticket/get", access_token=access, type="agent_config")
    assert corp["errcode"] == agent["errcode"] == 0
    assert corp["ticket"] != agent["ticket"] and agent["expires_in"] > 0
    assert get(emulator, "/cgi-bin/ticket/get", access_token=access)["errcode"] == 40058


def test_ticket_fetches_are_limited_per_hour(emulator):
    access = token(emulator)
    answers = [get(emulator, "/cgi-bin/ticket/get", access_token=access, type="agent_config")["errcode"]
               for _ in range(101)]
    assert answers[:100] == [0] * 100 and answers[100] == 45009
    admin(emulator, "reset")
    assert get(emulator, "/cgi-bin/ticket/get", access_token=access, type="agent_config")["errcode"] == 0


def test_expire_tokens_switch(emulator):
    access = token(emulator)
    ticket = get(emulator, "/cgi-bin/get_jsapi_ticket", access_token=access)["ticket"]
    admin(emulator, "faults", {"expire_tokens": True})
    assert get(emulator, "/cgi-bin/get_jsapi_ticket", access_token=access)["errcode"] == 42001
    fresh = token(emulator)
    assert fresh != access
    assert get(emulator, "/cgi-bin/get_jsapi_ticket", access_token=fresh)["ticket"] != ticket


def test_clock_expires_tokens(emulator):
    access = token(emulator)
    admin(emulator, "clock", {"advance": 7201})
    assert get(emulator, "/cgi-bin/externalcontact/get_follow_user_list", access_token=access)["errcode"] == 42001
    assert token(emulator) != access


def test_concurrent_gettoken_gets_one_token(emulator):
    admin(emulator, "faults", {"expire_tokens": True})
    tokens, threads = [], [threading.Thread(target=lambda: tokens.append(token(emulator))) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tokens) == 16 and len(set(tokens)) == 1


# -- switches -----------------------------------------------------------------------------


def test_errcode_fault_for_a_count_of_calls(emulator):
    admin(emulator, "faults", {"errcode": 45009, "path": "/cgi-bin/gettoken", "count": 2})
    params = {"corpid": CORP_ID, "corpsecret": SECRET}
    assert [get(emulator, "/cgi-bin/gettoken", **params)["errcode"] for _ in range(3)] == [45009, 45009, 0]


def test_errcode_fault_on_every_path_until_cleared(emulator):
    access = token(emulator)
    admin(emulator, "faults", {"errcode": -1})
    assert get(emulator, "/cgi-bin/user/get", access_token=access, userid="zhangwei")["errcode"] == -1
    assert get(emulator, "/cgi-bin/gettoken", corpid=CORP_ID, corpsecret=SECRET)["errcode"] == -1
    assert admin(emulator, "faults", method="DELETE")["errcodes"] == []
    assert get(emulator, "/cgi-bin/user/get", access_token=access, userid="zhangwei")["errcode"] == 0


def test_down_answers_503_without_json(emulator):
    admin(emulator, "faults", {"down": True})
    response = requests.get(emulator.url + "/cgi-bin/gettoken", params={"corpid": CORP_ID}, timeout=5)
    assert response.status_code == 503
    with pytest.raises(ValueError):
        response.json()
    admin(emulator, "reset")
    assert get(emulator, "/cgi-bin/gettoken", corpid=CORP_ID, corpsecret=SECRET)["errcode"] == 0


def test_delay_switch_slows_answers(emulator):
    admin(emulator, "faults", {"delay": 0.3})
    started = time.monotonic()
    assert get(emulator, "/cgi-bin/gettoken", corpid=CORP_ID, corpsecret=SECRET)["errcode"] == 0
    assert time.monotonic() - started >= 0.3


def test_bad_fault_requests_are_refused(emulator):
    for body in ({}, {"errcode": "x"}, {"errcode": 1, "path": "gettoken"}, {"errcode": 1, "count": 0}):
        assert requests.post(emulator.url + "/_admin/faults", json=body, timeout=5).status_code == 400


def test_call_log_without_secrets(emulator):
    access = token(emulator)
    get(emulator, "/cgi-bin/user/get", access_token=access, userid="lina")
    post(emulator, "/cgi-bin/externalcontact/groupchat/list", {"limit": 2}, access_token=access)
    log = admin(emulator, "calls", method="GET")
    assert [c["path"] for c in log["calls"]] == [
        "/cgi-bin/gettoken", "/cgi-bin/user/get", "/cgi-bin/externalcontact/groupchat/list"]
    assert log["calls"][0]["params"] == {"corpid": CORP_ID}
    assert log["calls"][1]["params"] == {"userid": "lina"}
    assert log["calls"][2]["params"] == {"limit": 2}
    assert log["counts"]["/cgi-bin/gettoken"] == 1 and log["calls"][0]["at"] > 1.7e9
    admin(emulator, "calls", method="DELETE")
    assert admin(emulator, "calls", method="GET") == {"calls": [], "counts": {}}


def test_wrong_method_and_bad_json(emulator):
    access = token(emulator)
    assert get(emulator, "/cgi-bin/externalcontact/groupchat/list", access_token=access)["errcode"] == 43002
    response = requests.post(emulator.url + "/cgi-bin/externalcontact/groupchat/list",
                             params={"access_token": access}, data=b"{not json", timeout=5)
    assert response.json()["errcode"] == 47001


# -- OAuth --------------------------------------------------------------------------------


def authorize_params(**changes):
    """Valid authorize parameters, with changes."""
    params = {"appid": CORP_ID, "redirect_uri": REDIRECT + "?next=%2Fsidebar%2F", "response_type": "code",
              "scope": "snsapi_base", "state": "abc123", "agentid": AGENT_ID}
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}


def authorize(server, userid, **changes):
    """The authorize page's answer for a client signed in as userid."""
    cookies = {"wecom_userid": userid} if userid else {}
    return requests.get(server.url + "/connect/oauth2/authorize", params=authorize_params(**changes),
                        cookies=cookies, allow_redirects=False, timeout=5)


def test_oauth_code_is_good_once(emulator):
    response = authorize(emulator, "lina")
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    query = parse_qs(target.query)
    assert f"{target.scheme}://{target.netloc}{target.path}" == REDIRECT
    assert query["next"] == ["/sidebar/"] and query["state"] == ["abc123"]
    access = token(emulator)
    first = get(emulator, "/cgi-bin/auth/getuserinfo", access_token=access, code=query["code"][0])
    assert first["errcode"] == 0 and first["userid"] == "lina"
    again = get(emulator, "/cgi-bin/auth/getuserinfo", access_token=access, code=query["code"][0])
    assert again["errcode"] == 40029


def test_oauth_code_lives_five_minutes(emulator):
    code = parse_qs(urlsplit(authorize(emulator, "lina").headers["Location"]).query)["code"][0]
    access = token(emulator)
    admin(emulator, "clock", {"advance": 301})
    assert get(emulator, "/cgi-bin/auth/getuserinfo", access_token=access, code=code)["errcode"] == 40029
    assert get(emulator, "/cgi-bin/auth/getuserinfo", access_token=access, code="nonsense")["errcode"] == 40029


def test_oauth_asks_who_signs_in_without_cookie(emulator):
    page = authorize(emulator, None)
    assert page.status_code == 200 and "张伟" in page.text and "以哪位成员的身份登录" in page.text
    link = requests.get(emulator.url + "/connect/oauth2/login",
                        params={**authorize_params(), "as_userid": "wangfang"}, allow_redirects=False, timeout=5)
    assert link.status_code == 302 and "wecom_userid=wangfang" in link.headers["Set-Cookie"]
    followed = requests.get(emulator.url + link.headers["Location"], cookies=link.cookies,
                            allow_redirects=False, timeout=5)
    code = parse_qs(urlsplit(followed.headers["Location"]).query)["code"][0]
    assert get(emulator, "/cgi-bin/auth/getuserinfo", access_token=token(emulator), code=code)["userid"] == "wangfang"


def test_oauth_outsider_is_not_a_member(emulator):
    link = requests.get(emulator.url + "/connect/oauth2/login",
                        params={**authorize_params(), "as_outsider": "1"}, allow_redirects=False, timeout=5)
    code = parse_qs(urlsplit(link.headers["Location"]).query)["code"][0]
    answer = get(emulator, "/cgi-bin/auth/getuserinfo", access_token=token(emulator), code=code)
    assert answer["errcode"] == 0 and "userid" not in answer and answer["openid"]


@pytest.mark.parametrize("changes", [
    {"appid": "wwother"}, {"appid": None}, {"redirect_uri": None}, {"redirect_uri": "/auth/callback"},
    {"response_type": "token"}, {"scope": "snsapi_userinfo"}, {"state": "bad-state!"}, {"state": "a" * 129},
    {"agentid": "999"},
])
def test_authorize_refuses_bad_parameters(emulator, changes):
    response = authorize(emulator, "zhangwei", **changes)
    assert response.status_code == 400
    assert "参数错误" in response.text


# -- staff and contacts -------------------------------------------------------------------


def test_user_get(emulator):
    access = token(emulator)
    member = get(emulator, "/cgi-bin/user/get", access_token=access, userid="zhangwei")
    assert member["name"] == "张伟" and member["position"] == "投资顾问" and member["avatar"].startswith("http")
    assert get(emulator, "/cgi-bin/user/get", access_token=access, userid="nobody")["errcode"] == 60111


def test_follow_users_and_their_contacts(emulator):
    access, data = token(emulator), world(emulator)
    follow_users = get(emulator, "/cgi-bin/externalcontact/get_follow_user_list", access_token=access)["follow_user"]
    assert {"zhangwei", "lina", "wangfang", "liuyang"} <= set(follow_users)
    listed = get(emulator, "/cgi-bin/externalcontact/list", access_token=access, userid="lina")["external_userid"]
    assert listed == [f["external_userid"] for f in data["follows"] if f["userid"] == "lina"]
    assert get(emulator, "/cgi-bin/externalcontact/list", access_token=access, userid="zhouqiang")["errcode"] == 84061
    assert get(emulator, "/cgi-bin/externalcontact/list", access_token=access, userid="nobody")["errcode"] == 60111


def test_contact_detail_with_two_followers(emulator):
    data = world(emulator)
    tag_names = {t["id"]: (g["name"], t["name"]) for g in data["tag_groups"] for t in g["tags"]}
    followers = {}
    for relation in data["follows"]:
        followers.setdefault(relation["external_userid"], []).append(relation)
    ext, relations = next((e, r) for e, r in followers.items() if len(r) == 2)
    answer = get(emulator, "/cgi-bin/externalcontact/get", access_token=token(emulator), external_userid=ext)
    assert answer["external_contact"]["external_userid"] == ext
    assert [f["userid"] for f in answer["follow_user"]] == [r["userid"] for r in relations]
    first = answer["follow_user"][0]
    corp_tags = [(t["group_name"], t["tag_name"]) for t in first["tags"] if t["type"] == 1]
    assert corp_tags == [tag_names[i] for i in relations[0]["tag_ids"]]
    assert first["createtime"] == relations[0]["createtime"] and first["add_way"] == relations[0]["add_way"]
    assert first["remark_mobiles"] == relations[0]["remark_mobiles"]


def test_contact_detail_refusals(emulator):
    access = token(emulator)
    prospect = world(emulator)["prospects"][0]["external_userid"]
    assert get(emulator, "/cgi-bin/externalcontact/get", access_token=access,
               external_userid="wmNOBODY")["errcode"] == 40096
    assert get(emulator, "/cgi-bin/externalcontact/get", access_token=access,
               external_userid=prospect)["errcode"] == 84061


def test_batch_get_by_user_pages(emulator):
    access, data = token(emulator), world(emulator)
    advisors = ["zhangwei", "lina", "wangfang"]
    expected = [(f["userid"], f["external_userid"]) for u in advisors for f in data["follows"] if f["userid"] == u]
    seen, cursor, pages = [], "", 0
    while True:
        answer = post(emulator, "/cgi-bin/externalcontact/batch/get_by_user",
                      {"userid_list": advisors, "cursor": cursor, "limit": 30}, access_token=access)
        assert answer["errcode"] == 0 and len(answer["external_contact_list"]) <= 30
        seen += [(i["follow_info"]["userid"], i["external_contact"]["external_userid"])
                 for i in answer["external_contact_list"]]
        pages, cursor = pages + 1, answer["next_cursor"]
        if not cursor:
            break
    assert seen == expected and pages == -(-len(expected) // 30)
    item = answer["external_contact_list"][-1]
    assert isinstance(item["follow_info"]["tag_id"], list) and "name" in item["external_contact"]
    too_many = post(emulator, "/cgi-bin/externalcontact/batch/get_by_user",
                    {"userid_list": advisors, "limit": 101}, access_token=access)
    assert too_many["errcode"] == 40058


# -- groups -------------------------------------------------------------------------------


def test_groupchat_list_pages_and_filters(emulator):
    access, data = token(emulator), world(emulator)
    first = post(emulator, "/cgi-bin/externalcontact/groupchat/list", {"limit": 4}, access_token=access)
    rest = post(emulator, "/cgi-bin/externalcontact/groupchat/list",
                {"limit": 4, "cursor": first["next_cursor"]}, access_token=access)
    ids = [g["chat_id"] for g in first["group_chat_list"] + rest["group_chat_list"]]
    assert ids == [g["chat_id"] for g in data["groups"]] and rest["next_cursor"] == ""
    owned = post(emulator, "/cgi-bin/externalcontact/groupchat/list",
                 {"limit": 100, "owner_filter": {"userid_list": ["zhangwei"]}}, access_token=access)
    assert len(owned["group_chat_list"]) == len([g for g in data["groups"] if g["owner"] == "zhangwei"]) >= 3
    for limit in (0, 1001, None):
        answer = post(emulator, "/cgi-bin/externalcontact/groupchat/list", {"limit": limit}, access_token=access)
        assert answer["errcode"] == 40058


def test_groupchat_detail(emulator):
    access, data = token(emulator), world(emulator)
    group = next(g for g in data["groups"] if g["name"].startswith("样板间"))
    answer = post(emulator, "/cgi-bin/externalcontact/groupchat/get",
                  {"chat_id": group["chat_id"], "need_name": 1}, access_token=access)["group_chat"]
    assert answer["owner"] == "zhangwei" and answer["notice"]
    assert len(answer["member_list"]) == len(group["members"])
    assert {m["userid"] for m in answer["member_list"] if m["type"] == 1} >= {"zhangwei", *group["admins"]}
    assert all(m["name"] for m in answer["member_list"])
    assert answer["admin_list"] == [{"userid": a} for a in group["admins"]]
    unnamed = post(emulator, "/cgi-bin/externalcontact/groupchat/get",
                   {"chat_id": group["chat_id"]}, access_token=access)["group_chat"]
    assert "name" not in unnamed["member_list"][0]
    missing = post(emulator, "/cgi-bin/externalcontact/groupchat/get", {"chat_id": "wrNOPE"}, access_token=access)
    assert missing["errcode"] == 40050


# -- tags ---------------------------------------------------------------------------------


def corp_tags_of(server, access, userid, ext):
    """Corp tag ids on one follow relation, as externalcontact/get tells."""
    answer = get(server, "/cgi-bin/externalcontact/get", access_token=access, external_userid=ext)
    relation = next(f for f in answer["follow_user"] if f["userid"] == userid)
    return [t["tag_id"] for t in relation["tags"] if t["type"] == 1]


def test_mark_tag_changes_the_world(emulator):
    access, data = token(emulator), world(emulator)
    relation = next(f for f in data["follows"] if f["userid"] == "liuyang" and f["tag_ids"])
    ext, removed = relation["external_userid"], relation["tag_ids"][0]
    added = next(t["id"] for g in data["tag_groups"] for t in g["tags"] if t["id"] not in relation["tag_ids"])
    answer = post(emulator, "/cgi-bin/externalcontact/mark_tag",
                  {"userid": "liuyang", "external_userid": ext, "add_tag": [added], "remove_tag": [removed]},
                  access_token=access)
    assert answer["errcode"] == 0
    tags = corp_tags_of(emulator, access, "liuyang", ext)
    assert added in tags and removed not in tags
    bad = post(emulator, "/cgi-bin/externalcontact/mark_tag",
               {"userid": "liuyang", "external_userid": ext, "add_tag": ["etNOPE"]}, access_token=access)
    assert bad["errcode"] == 40068
    post(emulator, "/cgi-bin/externalcontact/mark_tag",
         {"userid": "liuyang", "external_userid": ext, "add_tag": [removed], "remove_tag": [added]},
         access_token=access)


def test_add_corp_tag_and_list(emulator):
    access = token(emulator)
    group_name = "客户画像-" + hashlib.md5(emulator.url.encode()).hexdigest()[:6]
    created = post(emulator, "/cgi-bin/externalcontact/add_corp_tag",
                   {"group_name": group_name, "tag": [{"name": "高净值"}, {"name": "偏好ETF"}]}, access_token=access)
    assert created["errcode"] == 0 and [t["name"] for t in created["tag_group"]["tag"]] == ["高净值", "偏好ETF"]
    group_id = created["tag_group"]["group_id"]
    more = post(emulator, "/cgi-bin/externalcontact/add_corp_tag",
                {"group_name": group_name, "tag": [{"name": "沉睡客户"}]}, access_token=access)
    assert more["tag_group"]["group_id"] == group_id
    duplicate = post(emulator, "/cgi-bin/externalcontact/add_corp_tag",
                     {"group_id": group_id, "tag": [{"name": "高净值"}]}, access_token=access)
    assert duplicate["errcode"] == 40071
    listed = post(emulator, "/cgi-bin/externalcontact/get_corp_tag_list", {"group_id": [group_id]},
                  access_token=access)["tag_group"]
    assert [t["name"] for t in listed[0]["tag"]] == ["高净值", "偏好ETF", "沉睡客户"]
    everything = post(emulator, "/cgi-bin/externalcontact/get_corp_tag_list", {}, access_token=access)["tag_group"]
    assert {"客户等级", "来源", "兴趣", group_name} <= {g["group_name"] for g in everything}


# -- media and messages -------------------------------------------------------------------


def upload(server, access, kind, data, filename="poster.png"):
    """POST media/upload with a multipart `media` field."""
    response = requests.post(server.url + "/cgi-bin/media/upload", params={"access_token": access, "type": kind},
                             files={"media": (filename, data)}, timeout=30)
    return response.json()


def test_media_upload_limits(emulator):
    access = token(emulator)
    good = upload(emulator, access, "image", PNG)
    assert good["errcode"] == 0 and good["type"] == "image" and good["media_id"] and good["created_at"]
    assert upload(emulator, access, "file", b"%PDF-1.7 research note", "note.pdf")["errcode"] == 0
    assert upload(emulator, access, "voice", PNG)["errcode"] == 40004
    assert upload(emulator, access, "image", b"GIF89a" + b"\x00" * 20, "x.gif")["errcode"] == 40005
    assert upload(emulator, access, "file", b"12345", "tiny.txt")["errcode"] == 40006
    assert upload(emulator, access, "image", PNG + b"\x00" * (10 * 1024 * 1024))["errcode"] == 40009
    assert upload(emulator, access, "video", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 20, "a.mp4")["errcode"] == 0
    response = requests.post(emulator.url + "/cgi-bin/media/upload", params={"access_token": access, "type": "file"},
                             files={"other": ("a.txt", b"hello world")}, timeout=5)
    assert response.json()["errcode"] == 41005


def test_media_lives_three_days(emulator):
    media_id = upload(emulator, token(emulator), "image", PNG)["media_id"]
    assert requests.get(f"{emulator.url}/media/{media_id}", timeout=5).content == PNG
    admin(emulator, "clock", {"advance": 3 * 86400 + 1})
    assert requests.get(f"{emulator.url}/media/{media_id}", timeout=5).status_code == 404


def test_app_message_is_recorded(emulator):
    access = token(emulator)
    body = {"touser": "zhangwei|ghost", "msgtype": "text", "agentid": int(AGENT_ID), "text": {"content": "有新素材待审核"}}
    answer = post(emulator, "/cgi-bin/message/send", body, access_token=access)
    assert answer["errcode"] == 0 and answer["invaliduser"] == "ghost"
    message = admin(emulator, "messages", method="GET")["messages"][-1]
    assert message["kind"] == "app" and message["touser"] == ["zhangwei"]
    assert message["message"]["text"]["content"] == "有新素材待审核"
    wrong = post(emulator, "/cgi-bin/message/send", {**body, "agentid": 1}, access_token=access)
    assert wrong["errcode"] == 40056


# -- JS-SDK -------------------------------------------------------------------------------


def verify(server, **fields):
    """POST /jsapi/verify."""
    return post(server, "/jsapi/verify", fields)


def test_signature_helper_matches_the_official_vector():
    v = VECTOR
    assert jsapi_signature(v["ticket"], v["nonceStr"], v["timestamp"], v["url"]) == v["signature"]


def test_jsapi_verify_with_the_official_vector(emulator):
    state = state_of(emulator)
    with state.lock:
        state.credentials.grant("corp", VECTOR["ticket"], state.now() + 3600)
    fields = {k: VECTOR[k] for k in ("nonceStr", "timestamp", "url", "signature")}
    assert verify(emulator, type="corp", corpid=CORP_ID, **fields) == {"ok": True}
    wrong = verify(emulator, type="corp", corpid=CORP_ID, **{**fields, "signature": "0" * 40})
    assert wrong == {"ok": False, "errmsg": "invalid signature"}
    assert verify(emulator, type="agent", corpid=CORP_ID, agentid=AGENT_ID, **fields)["ok"] is False
    assert verify(emulator, type="corp", corpid="wwother", **fields)["ok"] is False


def test_jsapi_verify_agent_ticket_until_it_expires(emulator):
    access = token(emulator)
    ticket = get(emulator, "/cgi-bin/ticket/get", access_token=access, type="agent_config")["ticket"]
    url = "http://127.0.0.1:5000/sidebar/?x=1"
    fields = {"type": "agent", "corpid": CORP_ID, "agentid": AGENT_ID, "nonceStr": "n0nce", "timestamp": "1700000000",
              "url": url, "signature": jsapi_signature(ticket, "n0nce", "1700000000", url)}
    assert verify(emulator, **fields)["ok"] is True
    assert verify(emulator, **{**fields, "agentid": "1000003"})["ok"] is False
    assert verify(emulator, **{**fields, "url": url + "#frag"})["ok"] is False
    admin(emulator, "clock", {"advance": 7201})
    assert verify(emulator, **fields)["ok"] is False


def test_chat_messages_are_checked_and_recorded(emulator):
    data = world(emulator)
    ext = next(f["external_userid"] for f in data["follows"] if f["userid"] == "zhangwei")
    media_id = upload(emulator, token(emulator), "image", PNG)["media_id"]
    chat = {"userid": "zhangwei", "chat": f"contact:{ext}"}
    good = [
        {"msgtype": "text", "text": {"content": "您好，这是本周的基金周报"}},
        {"msgtype": "image", "image": {"mediaid": media_id}},
        {"msgtype": "news", "news": {"link": "https://example.com/r/abc", "title": "ETF定投入门", "desc": "三分钟看懂",
                                     "imgUrl": "https://example.com/cover.png"}},
        {"msgtype": "miniprogram", "miniprogram": {"appid": "wx123", "title": "开户", "page": "pages/open/index.html",
                                                   "imgUrl": "https://example.com/a.png"}},
    ]
    for message in good:
        answer = post(emulator, "/client/messages", {**chat, "message": message})
        assert answer["ok"] is True, answer
    bad = [
        ({"msgtype": "text", "text": {"content": ""}}, "invalid content"),
        ({"msgtype": "file", "file": {"mediaid": media_id}}, "invalid mediaid"),
        ({"msgtype": "image", "image": {"mediaid": "3unknown"}}, "invalid mediaid"),
        ({"msgtype": "news", "news": {"link": "javascript:alert(1)", "title": "x"}}, "invalid link"),
        ({"msgtype": "miniprogram", "miniprogram": {"appid": "wx1", "title": "t", "imgUrl": "https://e.com/a.png",
                                                    "page": "pages/index"}}, "invalid page"),
        ({"msgtype": "voice", "voice": {}}, "invalid msgtype"),
    ]
    for message, errmsg in bad:
        assert post(emulator, "/client/messages", {**chat, "message": message}) == {"ok": False, "errmsg": errmsg}
    outside = post(emulator, "/client/messages", {"userid": "zhangwei", "chat": "normal", "message": good[0]})
    assert outside["ok"] is False
    recorded = admin(emulator, "messages", method="GET")["messages"]
    assert [m["message"]["msgtype"] for m in recorded] == ["text", "image", "news", "miniprogram"]
    assert recorded[1]["message"]["media"]["size"] == len(PNG) and recorded[0]["chat"] == chat["chat"]


# -- the seed -----------------------------------------------------------------------------


def test_seed_is_a_brokerage(emulator):
    data = world(emulator)
    advisors = {f["userid"] for f in data["follows"]}
    roles = {s["role"] for s in data["staff"]}
    assert len(advisors) >= 4 and {"manager", "compliance", "content"} <= roles
    assert len(data["contacts"]) == 150 and len(data["groups"]) == 6
    per_contact = {}
    for relation in data["follows"]:
        per_contact[relation["external_userid"]] = per_contact.get(relation["external_userid"], 0) + 1
    assert 10 <= sum(1 for n in per_contact.values() if n == 2) <= 20
    assert {c["type"] for c in data["contacts"]} == {1, 2}
    assert all(c["unionid"].startswith("o") for c in data["contacts"] if c["type"] == 1)
    assert "zhangwei" in advisors
    assert sum(1 for g in data["groups"] if any(m["userid"] == "zhangwei" for m in g["members"])) >= 3
    prospects = {p["external_userid"] for p in data["prospects"]}
    for group in data["groups"]:
        externals = [m for m in group["members"] if m["type"] == 2]
        assert 20 <= len(externals) <= 120
    assert any(m["userid"] in prospects for g in data["groups"] for m in g["members"])
    mobiles = [m for f in data["follows"] for m in f["remark_mobiles"]]
    assert mobiles and all(len(m) == 11 and m[:2] in ("13", "15", "18") for m in mobiles)


def test_world_object_in_process(emulator):
    world_object = emulator.emulator.world
    assert len(world_object.contacts()) == 150
    assert world_object.staff_member("zhangwei").name == "张伟"


def test_reset_clears_switches_and_logs(emulator):
    admin(emulator, "faults", {"errcode": 45009})
    admin(emulator, "clock", {"advance": 100})
    admin(emulator, "reset")
    assert admin(emulator, "faults", method="GET") == {"errcodes": [], "down": False, "delay": 0.0}
    assert admin(emulator, "calls", method="GET")["calls"] == []
    assert admin(emulator, "messages", method="GET")["messages"] == []
    assert get(emulator, "/cgi-bin/gettoken", corpid=CORP_ID, corpsecret=SECRET)["errcode"] == 0


def test_mounted_under_a_prefix():
    server = LiveServer(DispatcherMiddleware(NotFound(), {"/_wecom": create_emulator()}))
    try:
        home = requests.get(server.url + "/_wecom/", allow_redirects=False, timeout=5)
        assert urlsplit(home.headers["Location"]).path == "/_wecom/client"
        page = requests.get(server.url + "/_wecom/client?userid=lina", timeout=5)
        assert "Path=/_wecom" in page.headers["Set-Cookie"]
        assert 'src="/_wecom/static/client.js"' in page.text and 'data-verify-url="/_wecom/jsapi/verify"' in page.text
        assert requests.get(server.url + "/_wecom/bridge.js", timeout=5).text.count("WeixinJSBridge") > 1
        base = server.url + "/_wecom"
        access = requests.get(base + "/cgi-bin/gettoken", params={"corpid": CORP_ID, "corpsecret": SECRET},
                              timeout=5).json()["access_token"]
        member = requests.get(base + "/cgi-bin/user/get", params={"access_token": access, "userid": "lina"},
                              timeout=5).json()
        assert member["avatar"] == base + "/avatars/lina.svg"
        assert requests.get(member["avatar"], timeout=5).headers["Content-Type"].startswith("image/svg+xml")
    finally:
        server.stop()
