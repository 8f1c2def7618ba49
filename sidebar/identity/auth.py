"""The login guard every sidebar and console view sits behind."""
from functools import wraps

from flask import abort, current_app, g, redirect, request, session, url_for

from ..domain.access import roles_of
from ..extensions import db, htmx, wecom
from ..models import Staff
from ..ratelimit import client_key, enforce
from ..web import wants_json
from . import service


def public_url(endpoint, **values):
    """An absolute URL of ours, on SIDEBAR_PUBLIC_URL when set (behind a proxy)."""
    base = current_app.config["SIDEBAR_PUBLIC_URL"]
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)




def limit_logins():
    """429 once one address starts or finishes logins too often (a whole office shares one address)."""
    enforce(client_key("login"), *current_app.config["LOGIN_RATE_LIMIT"])


def start_login(target):
    """Send the browser to WeCom's OAuth page, remembering where to come back to."""
    limit_logins()
    state, session["oauth"] = service.begin_login(session.get("oauth"), target)
    return redirect(wecom().authorize_url(public_url("identity.callback"), state))


def signed_in_userid():
    """The member this request's session belongs to, or None; a cookie of a session ended by logout
    counts as none (it is left as it is: a fetch must not rewrite the cookie of a login under way)."""
    userid = session.get("userid")
    if userid and service.session_is_live(session.get("sid"), userid):
        return userid
    return None


def login_required(view):
    """Run view with g.userid set, or answer as an unauthenticated client expects."""
    @wraps(view)
    def guarded(*args, **kwargs):
        userid = signed_in_userid()
        if not userid:
            return not_logged_in()
        g.userid = userid
        return view(*args, **kwargs)
    return guarded


def not_logged_in():
    """htmx gets 401 + HX-Redirect, scripts a 401, only a page navigation the OAuth redirect."""
    if htmx:
        response = current_app.make_response(("", 401))
        response.headers["HX-Redirect"] = url_for("identity.entry")
        return response
    # A fetch() cannot follow WeCom's login page; starting one would only rewrite the session
    # cookie under a navigation that is logging in at the same moment.
    navigating = request.headers.get("Sec-Fetch-Mode", "navigate") == "navigate"
    if wants_json() or request.method != "GET" or not navigating:
        abort(401)
    return start_login(request.full_path.rstrip("?"))


ROLE_LABELS = {"content": "内容运营", "compliance": "合规", "manager": "负责人", "operator": "运营"}


def role_required(*roles):
    """Signed in and holding one of the roles; g.roles is set for the templates."""
    def decorate(view):
        @wraps(view)
        @login_required
        def guarded(*args, **kwargs):
            g.roles = roles_of(g.userid)
            if not g.roles & set(roles):
                abort(403, "需要以下角色之一：" + "、".join(ROLE_LABELS[r] for r in roles))
            g.staff = db.session.get(Staff, g.userid)
            return view(*args, **kwargs)
        return guarded
    return decorate
