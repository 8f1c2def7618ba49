"""The simulated WeCom client in Chromium, with the unmodified @wecom/jssdk in its sidebar iframe.

The sidebar here is a small stand-in page (the real sidebar is tested elsewhere): it logs in
through the emulator's OAuth page, signs for the JS-SDK with the emulator's tickets, and reports
what the SDK answers on <body>. It is mounted beside the emulator at /_wecom, as in the demo.
"""
import secrets
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from helpers import LiveServer
from flask import (Flask, Response, abort, jsonify, redirect, render_template_string, request, send_file, session,
                   url_for)
from playwright.sync_api import expect
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from sidebar.emulator import create_emulator
from sidebar.emulator.credentials import jsapi_signature

CORP_ID, AGENT_ID, SECRET = "wwdemo0000000001", "1000002", "demo-secret-do-not-use-in-production"
PREFIX = "/_wecom"
SDK = Path(__file__).resolve().parent.parent / "static/vendor/wecom-jssdk-2.4.4/wecom.global.prod.js"
JS_APIS = ["getContext", "getCurExternalContact", "getCurExternalChat", "sendChatMessage"]

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="csrf-token" content="{{ csrf }}">
<title>侧边栏（测试替身）</title></head>
<body data-corp-id="{{ corp_id }}" data-agent-id="{{ agent_id }}" data-user="{{ userid }}"
      style="font-family: 'Noto Sans CJK SC', sans-serif; margin: 0; padding: 16px">
<h2 style="font-size: 16px; margin: 0 0 8px">客户透视（测试替身）</h2>
<p style="color: #888; font-size: 13px">当前顾问：{{ userid }}</p>
<button id="send-text">发送文本</button> <button id="send-news">发送文章</button>
<script src="{{ prefix }}/bridge.js"></script>
<script src="/vendor/wecom.global.prod.js"></script>
<script src="/harness.js"></script>
</body></html>"""

HARNESS_JS = """(function () {
  var data = document.body.dataset;
  function signature(type) {
    return function (url) {
      var address = '/jssdk/signature?type=' + type + '&url=' + encodeURIComponent(url);
      return fetch(address).then(function (r) { return r.json(); });
    };
  }
  function remember(name) { return function (result) { data[name] = result.errMsg; }; }
  ww.register({corpId: data.corpId, agentId: data.agentId, jsApiList: %s,
               getConfigSignature: signature('corp'), getAgentConfigSignature: signature('agent')});
  ww.getContext().then(function (context) {
    data.entry = context.entry;
    if (context.entry === 'single_chat_tools') {
      return ww.getCurExternalContact().then(function (r) { data.target = 'contact:' + r.userId; });
    }
    if (context.entry === 'group_chat_tools') {
      return ww.getCurExternalChat().then(function (r) { data.target = 'group:' + r.chatId; });
    }
  }).catch(remember('error'));
  document.getElementById('send-text').addEventListener('click', function () {
    ww.sendChatMessage({msgtype: 'text', text: {content: '您好，这是今天的早盘要点。'}}).then(remember('sent'), remember('sent'));
  });
  document.getElementById('send-news').addEventListener('click', function () {
    ww.sendChatMessage({msgtype: 'news', news: {link: 'https://example.com/r/etf', title: 'ETF定投入门：三分钟看懂',
      desc: '投资者教育 · 申江证券', imgUrl: location.origin + '%s/avatars/zhangwei.svg'}})
      .then(remember('sent'), remember('sent'));
  });
})();""" % (JS_APIS, PREFIX)


def wecom_api(path, **params):
    """Call the emulator's server API from the stand-in's server side."""
    base = request.host_url.rstrip("/") + PREFIX
    answer = requests.get(base + path, params=params, timeout=5).json()
    assert answer["errcode"] == 0, answer
    return answer


def create_stand_in():
    """A minimal sidebar: OAuth login, JS-SDK signatures, logout with CSRF."""
    app = Flask(__name__, static_folder=None)
    app.secret_key = secrets.token_hex(16)
    app.config.update(BAD_SIGNATURE=False, LOGOUTS=0)

    @app.get("/sidebar/")
    def sidebar():
        if "userid" not in session:
            session["state"] = secrets.token_hex(8)
            query = urlencode({"appid": CORP_ID, "redirect_uri": url_for("callback", _external=True),
                               "response_type": "code", "scope": "snsapi_base", "state": session["state"],
                               "agentid": AGENT_ID})
            return redirect(f"{PREFIX}/connect/oauth2/authorize?{query}#wechat_redirect")
        session.setdefault("csrf", secrets.token_hex(8))
        html = render_template_string(PAGE, csrf=session["csrf"], corp_id=CORP_ID, agent_id=AGENT_ID,
                                      userid=session["userid"], prefix=PREFIX)
        return Response(html, headers={"Content-Security-Policy": "script-src 'self'"})

    @app.get("/auth/callback")
    def callback():
        if request.args.get("state") != session.pop("state", None):
            abort(400)
        token = wecom_api("/cgi-bin/gettoken", corpid=CORP_ID, corpsecret=SECRET)["access_token"]
        session["userid"] = wecom_api("/cgi-bin/auth/getuserinfo", access_token=token,
                                      code=request.args["code"])["userid"]
        return redirect(url_for("sidebar"))

    @app.post("/auth/logout")
    def logout():
        if request.headers.get("X-CSRFToken") != session.get("csrf"):
            abort(400)
        session.clear()
        app.config["LOGOUTS"] += 1
        return "", 204

    @app.get("/jssdk/signature")
    def signature():
        token = wecom_api("/cgi-bin/gettoken", corpid=CORP_ID, corpsecret=SECRET)["access_token"]
        if request.args["type"] == "agent":
            ticket = wecom_api("/cgi-bin/ticket/get", access_token=token, type="agent_config")["ticket"]
        else:
            ticket = wecom_api("/cgi-bin/get_jsapi_ticket", access_token=token)["ticket"]
        timestamp, nonce = int(time.time()), secrets.token_hex(8)
        signed = jsapi_signature(ticket, nonce, timestamp, request.args["url"])
        if app.config["BAD_SIGNATURE"]:
            signed = "0" * 40
        return jsonify(timestamp=timestamp, nonceStr=nonce, signature=signed)

    @app.get("/vendor/wecom.global.prod.js")
    def sdk():
        return send_file(SDK, mimetype="text/javascript")

    @app.get("/harness.js")
    def harness():
        return Response(HARNESS_JS, mimetype="text/javascript")

    return app


@pytest.fixture(scope="module")
def demo():
    """The stand-in sidebar at / and the emulator at /_wecom on one server, like `flask demo`."""
    emulator = create_emulator(sidebar_url="/sidebar/", logout_url="/auth/logout")
    stand_in = create_stand_in()
    server = LiveServer(DispatcherMiddleware(stand_in, {PREFIX: emulator}))
    server.emulator, server.stand_in = emulator, stand_in
    yield server
    server.stop()


@pytest.fixture
def page_errors():
    """Uncaught errors of the page; a test must expect (and clear) any it causes."""
    errors = []
    yield errors
    assert errors == []


@pytest.fixture
def page(browser, demo, page_errors):
    """A fresh browser context (no cookies) on the demo server, switches reset."""
    requests.post(f"{demo.url}{PREFIX}/_admin/reset", timeout=5).raise_for_status()
    demo.stand_in.config["BAD_SIGNATURE"] = False
    context = browser.new_context(viewport={"width": 1280, "height": 760}, locale="zh-CN")
    page = context.new_page()
    page.on("pageerror", lambda error: page_errors.append(error.message))
    yield page
    context.close()


def expect_sdk_rejection(page, page_errors):
    """A failed agentConfig always leaves one unhandled rejection: the SDK's register() drops the
    promise of its async ensureAgentConfigReady(). Real WeCom does the same; pages cannot catch it."""
    for _ in range(50):
        if page_errors:
            break
        page.wait_for_timeout(100)
    assert page_errors == ["Object"]
    page_errors.clear()


def open_client(page, demo, **params):
    """Open the simulated client and wait until the sidebar has spoken to it."""
    page.goto(f"{demo.url}{PREFIX}/client?{urlencode(params)}")
    return page.frame_locator("#sidebar-frame").locator("body")


def contact_of(demo, userid):
    """The advisor's most recently added contact (the client's default chat)."""
    world = demo.emulator.world
    return max(world.contacts_of(userid), key=lambda ext: world.follow(userid, ext).createtime)


def test_single_chat_context_through_the_official_sdk(page, demo):
    ext = contact_of(demo, "zhangwei")
    sidebar = open_client(page, demo, userid="zhangwei")
    expect(sidebar).to_have_attribute("data-target", f"contact:{ext}")
    expect(sidebar).to_have_attribute("data-entry", "single_chat_tools")
    expect(sidebar).to_have_attribute("data-user", "zhangwei")
    expect(page.locator("body")).to_have_attribute("data-agent-config", "ok")
    assert page.evaluate("document.body.dataset.chat") == f"contact:{ext}"


def test_group_chat_and_send(page, demo):
    group = next(g for g in demo.emulator.world.groups.values() if g.name.startswith("样板间"))
    sidebar = open_client(page, demo, userid="zhangwei")
    expect(page.locator("body")).to_have_attribute("data-agent-config", "ok")
    page.locator(f'.chat-item[data-chat="group:{group.chat_id}"]').click()
    expect(sidebar).to_have_attribute("data-target", f"group:{group.chat_id}")
    expect(sidebar).to_have_attribute("data-entry", "group_chat_tools")
    page.frame_locator("#sidebar-frame").locator("#send-text").click()
    expect(sidebar).to_have_attribute("data-sent", "sendChatMessage:ok")
    bubble = page.locator(f'.message[data-chat="group:{group.chat_id}"][data-msgtype="text"]')
    expect(bubble).to_contain_text("早盘要点")
    messages = requests.get(f"{demo.url}{PREFIX}/_admin/messages", timeout=5).json()["messages"]
    assert messages[-1]["chat"] == f"group:{group.chat_id}" and messages[-1]["userid"] == "zhangwei"


def test_customer_cancels(page, demo):
    sidebar = open_client(page, demo, userid="lina")
    expect(sidebar).to_have_attribute("data-entry", "single_chat_tools")
    page.locator("#cancel-send").check()
    page.frame_locator("#sidebar-frame").locator("#send-news").click()
    expect(sidebar).to_have_attribute("data-sent", "sendChatMessage:cancel")
    assert requests.get(f"{demo.url}{PREFIX}/_admin/messages", timeout=5).json()["messages"] == []


def test_workbench_has_no_chat_context(page, demo):
    sidebar = open_client(page, demo, userid="wangfang", chat="normal")
    expect(sidebar).to_have_attribute("data-entry", "normal")
    page.frame_locator("#sidebar-frame").locator("#send-text").click()
    expect(sidebar).to_have_attribute("data-sent", "sendChatMessage:without context of external contact")


def test_wrong_signature_fails_agent_config(page, demo, page_errors):
    demo.stand_in.config["BAD_SIGNATURE"] = True
    sidebar = open_client(page, demo, userid="zhangwei")
    expect(page.locator("body")).to_have_attribute("data-agent-config", "fail")
    expect(sidebar).to_have_attribute("data-error", "agentConfig:invalid signature")
    expect_sdk_rejection(page, page_errors)


def test_corp_config_signature(page, demo):
    sidebar = open_client(page, demo, userid="zhangwei")
    expect(sidebar).to_have_attribute("data-entry", "single_chat_tools")
    frame = page.frame(url=lambda url: "/sidebar/" in url)
    token = requests.get(f"{demo.url}{PREFIX}/cgi-bin/gettoken", params={"corpid": CORP_ID, "corpsecret": SECRET},
                         timeout=5).json()["access_token"]
    ticket = requests.get(f"{demo.url}{PREFIX}/cgi-bin/get_jsapi_ticket", params={"access_token": token},
                          timeout=5).json()["ticket"]
    invoke = """([params]) => new Promise(done => WeixinJSBridge.invoke('preVerifyJSAPI', params, done))"""
    params = {"verifyAppId": CORP_ID, "verifyTimestamp": "1700000000", "verifyNonceStr": "abc",
              "verifySignature": jsapi_signature(ticket, "abc", "1700000000", frame.url.split("#")[0])}
    assert frame.evaluate(invoke, [params])["err_msg"] == "preVerifyJSAPI:ok"
    params["verifySignature"] = "f" * 40
    assert frame.evaluate(invoke, [params])["err_msg"] == "preVerifyJSAPI:fail_invalid signature"


def test_outside_the_client_the_bridge_says_so(page, demo, page_errors):
    sidebar = open_client(page, demo, userid="zhangwei")  # signs the browser in to the stand-in
    expect(sidebar).to_have_attribute("data-entry", "single_chat_tools")
    page.goto(f"{demo.url}/sidebar/")
    expect(page.locator("body")).to_have_attribute("data-error", "agentConfig:not in wecom")
    assert "wxwork/4.1.30" in page.evaluate("navigator.userAgent")
    expect_sdk_rejection(page, page_errors)


def test_each_client_load_is_a_fresh_login(page, demo):
    sidebar = open_client(page, demo, userid="lina")
    expect(sidebar).to_have_attribute("data-user", "lina")
    logouts = demo.stand_in.config["LOGOUTS"]
    sidebar = open_client(page, demo, userid="liuyang")
    expect(sidebar).to_have_attribute("data-user", "liuyang")
    assert demo.stand_in.config["LOGOUTS"] == logouts + 1
