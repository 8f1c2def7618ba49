"""OAuth login, logout, JS-SDK signatures and the sidebar entry page."""
from flask import (Blueprint, abort, current_app, jsonify, make_response, redirect, render_template, request,
                   session)
from werkzeug.exceptions import TooManyRequests

from ..extensions import wecom
from ..web import private, render
from ..wecom import WeComError, WeComUnavailable, signature_for
from . import service
from .auth import limit_logins, login_required, not_logged_in, signed_in_userid

bp = Blueprint("identity", __name__)


@bp.get("/sidebar/")
def entry():
    """The shell: registers the JS-SDK, reads the chat context, loads the right panel.

    It carries the agentConfig signature for its own URL, so registering waits on no request of
    its own (one round trip less on a phone); /jssdk/signature still signs other URLs and renewals.
    """
    if not signed_in_userid():
        return not_logged_in()
    own_url = service.page_url(current_app.config["SIDEBAR_PUBLIC_URL"] or request.host_url,
                               request.script_root + request.full_path)
    try:
        signed = signature_for(wecom().agent_ticket(), own_url)
    except WeComError:  # the page asks /jssdk/signature itself, and says so if WeCom is down
        signed = None
    # a signature with its time, and the CSRF token: kept by no cache
    return private(make_response(render_template("identity/shell.html", signed_url=own_url, signed=signed)))


@bp.get("/auth/callback")
def callback():
    """OAuth return: state must be one we issued to this session; the code is single use."""
    limit_logins()
    pending = dict(session.get("oauth") or {})
    target = pending.pop(request.args.get("state") or "", None)  # each state works once
    session["oauth"] = pending
    try:
        staff = service.finish_login(wecom(), target, request.args.get("code"))
    except service.LoginRefused as refused:
        return render("identity/login_failed.html", status=400, reason=str(refused))
    except WeComUnavailable:
        abort(503, "企业微信暂时无法访问，请稍后重新打开侧边栏")
    except WeComError:
        return render("identity/login_failed.html", status=400, reason="登录码无效或已被使用，请重新打开侧边栏")
    session.clear()  # a fresh session on login: nothing from before it survives
    session.permanent = True
    session["userid"] = staff.userid
    session["sid"] = service.start_session(staff.userid, current_app.permanent_session_lifetime)
    return redirect(target)


@bp.post("/auth/logout")
def logout():
    """End the session on the server and in the browser (the next open logs in again through WeCom)."""
    service.end_session(session.get("sid"))
    session.clear()
    return "", 204


@bp.get("/jssdk/signature")
@login_required
def signature():
    """{timestamp, nonceStr, signature} for ww.register, for pages on our own origin only."""
    kind, url = request.args.get("type"), request.args.get("url", "")
    if kind not in ("corp", "agent"):
        abort(400, "type 必须是 corp 或 agent")
    if not service.same_origin(url, current_app.config["SIDEBAR_PUBLIC_URL"] or request.host_url):
        abort(400, "只能为本站页面签名")
    api = wecom()
    try:
        ticket = api.jsapi_ticket() if kind == "corp" else api.agent_ticket()
    except WeComError:
        abort(503, "企业微信暂时无法访问")
    return jsonify(signature_for(ticket, url))


@bp.post("/jssdk/signature/refused")
@login_required
def signature_refused():
    """The page's JS-SDK registration failed with 'invalid signature': renew that ticket, then the page signs again."""
    kind = request.form.get("type")
    if kind not in ("corp", "agent"):
        abort(400, "type 必须是 corp 或 agent")
    if not service.renew_refused_ticket(wecom(), kind):
        raise TooManyRequests("票据刚刚更新过，请稍后再试", retry_after=service.TICKET_RENEWAL_GAP)
    return "", 204
