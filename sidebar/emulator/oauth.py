"""The OAuth2 authorize page: the signed-in WeCom user gets a one-time code for the app."""
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, redirect, render_template, request, url_for

from .state import current_state

bp = Blueprint("oauth", __name__, url_prefix="/connect/oauth2")
USER_COOKIE = "wecom_userid"
SCOPES = ("snsapi_base", "snsapi_privateinfo")
STATE_PATTERN = re.compile(r"[a-zA-Z0-9]{0,128}")


def signed_in_user(state):
    """The staff member the simulated client signed in (cookie), or None."""
    userid = request.cookies.get(USER_COOKIE, "")
    return state.world.staff.get(userid)


def remember_user(response, userid):
    """Set the emulator's sign-in cookie, scoped to wherever the emulator is mounted."""
    response.set_cookie(USER_COOKIE, userid, path=request.script_root or "/", samesite="Lax", httponly=True)
    return response


def authorize_problem(state, args):
    """What is wrong with the authorize parameters (in Chinese, as WeCom shows it), or None."""
    if args.get("appid") != state.corp_id:
        return "appid 参数错误：不是本企业的 CorpID"
    target = urlsplit(args.get("redirect_uri", ""))
    if target.scheme not in ("http", "https") or not target.netloc:
        return "redirect_uri 参数错误：需要完整的 http(s) 地址"
    if args.get("response_type") != "code":
        return "response_type 参数错误：只能是 code"
    if args.get("scope") not in SCOPES:
        return "scope 参数错误：只能是 snsapi_base 或 snsapi_privateinfo"
    if not STATE_PATTERN.fullmatch(args.get("state", "")):
        return "state 参数错误：只能包含 a-zA-Z0-9，最长 128 字节"
    agentid = args.get("agentid")
    if (agentid or args.get("scope") == "snsapi_privateinfo") and agentid != state.agent_id:
        return "agentid 参数错误：不是本应用的 AgentId"
    return None


def with_code(redirect_uri, code, oauth_state):
    """redirect_uri with code and state appended to its query (its fragment kept)."""
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + [("code", code), ("state", oauth_state)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def redirect_with_code(state, args, userid):
    """Issue a one-time code for userid (None: not a member) and send the browser back to the app."""
    with state.lock:
        code = state.credentials.issue_code(userid, args["scope"], state.now())
    return redirect(with_code(args["redirect_uri"], code, args.get("state", "")), 302)


def error_page(reason):
    """WeCom's plain error page, HTTP 400."""
    return render_template("emulator/oauth_error.html", reason=reason), 400


@bp.get("/authorize")
def authorize():
    """Check the parameters, then code the signed-in user or ask who is signing in."""
    state = current_state()
    args = request.args.to_dict()
    problem = authorize_problem(state, args)
    if problem:
        return error_page(problem)
    user = signed_in_user(state)
    if user is None:
        return render_template("emulator/oauth_pick.html", staff=list(state.world.staff.values()),
                               departments=state.world.departments, args=args)
    return redirect_with_code(state, args, user.userid)


@bp.get("/login")
def login():
    """The pick page's links: sign in as a staff member (or as an outsider) and continue."""
    state = current_state()
    args = request.args.to_dict()
    userid = args.pop("as_userid", "")
    outsider = args.pop("as_outsider", "") == "1"
    problem = authorize_problem(state, args)
    if problem:
        return error_page(problem)
    if outsider:
        return redirect_with_code(state, args, None)
    if userid not in state.world.staff:
        return error_page("没有这个成员")
    return remember_user(redirect(url_for("oauth.authorize", **args), 302), userid)
