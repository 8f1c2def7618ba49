"""Advisor identity: OAuth login, the staff record, console roles."""
import secrets
from urllib.parse import urlsplit

from sqlalchemy import bindparam, delete

from ..domain.directory import ensure_staff
from ..extensions import db
from ..models import ROLES, Role, StaffSession, utcnow
from ..ratelimit import once_per

NEXT_ALLOWED = ("/sidebar/", "/console/", "/manage/")  # where a login may return to
MAX_PENDING_LOGINS = 4  # two sidebars opened at once must both be able to log in
# WeCom allows an app 100 ticket fetches an hour: a refresh forced by pages at most every 5 minutes a kind
TICKET_RENEWAL_GAP = 300


LIVE_SESSION = db.select(StaffSession.id).where(StaffSession.id == bindparam("sid"),
                                                StaffSession.userid == bindparam("userid"))


class LoginRefused(Exception):
    """The OAuth return cannot log anyone in; the message is for the advisor."""


def safe_next(target):
    """Return target if it is one of our own allowed paths, else the sidebar entry."""
    parts = urlsplit(target or "")
    path = parts.path
    if (parts.scheme or parts.netloc or "\\" in target or ".." in path
            or any(ord(ch) < 32 for ch in target) or not path.startswith(NEXT_ALLOWED)):
        return NEXT_ALLOWED[0]
    return path + (f"?{parts.query}" if parts.query else "")


def begin_login(pending, target):
    """Record a new OAuth state with where to return; returns (state, pending)."""
    state = secrets.token_hex(16)  # WeCom allows [a-zA-Z0-9], up to 128 bytes
    pending = dict(list((pending or {}).items())[-(MAX_PENDING_LOGINS - 1):])
    pending[state] = safe_next(target)
    return state, pending


def finish_login(wecom, target, code):
    """Trade the code for the member; target is None when the state was not one we issued."""
    if target is None:
        raise LoginRefused("登录状态已失效，请重新打开侧边栏")
    if not code:
        raise LoginRefused("企业微信没有返回登录码，请重新打开侧边栏")
    return ensure_staff(wecom, wecom.get_user_info(code))


def start_session(userid, lifetime):
    """Record a new signed-in browser of userid; returns the id its cookie carries. Forgets sessions
    older than lifetime (their cookies have expired anyway)."""
    db.session.execute(delete(StaffSession).where(StaffSession.started_at < utcnow() - lifetime))
    session_id = secrets.token_urlsafe(32)
    db.session.add(StaffSession(id=session_id, userid=userid))
    db.session.flush()
    return session_id


def session_is_live(session_id, userid):
    """Whether the cookie's session has not been ended by a logout.

    Asked on a connection of its own, returned at once: a request that then waits for another
    worker's ticket refresh must not hold a pooled connection the refreshing one needs. Outside a
    transaction: one read needs none, and on PostgreSQL its BEGIN and ROLLBACK were two of the few
    round trips a kept panel makes.
    """
    if not session_id:
        return False
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return connection.execute(LIVE_SESSION, {"sid": session_id, "userid": userid}).first() is not None


def end_session(session_id):
    """Logout: the session's cookie, and every copy of it, opens nothing from now on."""
    if session_id:
        db.session.execute(delete(StaffSession).where(StaffSession.id == session_id))


def grant_role(userid, role):
    """Give a member a console role; granting twice is harmless."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    if db.session.get(Role, (userid, role)) is None:
        db.session.add(Role(userid=userid, role=role))
        db.session.flush()


def revoke_role(userid, role):
    """Take a console role away; returns False when the member did not have it."""
    row = db.session.get(Role, (userid, role))
    if row is None:
        return False
    db.session.delete(row)
    return True


def all_roles():
    """Every grant, ordered by member."""
    return db.session.scalars(db.select(Role).order_by(Role.userid, Role.role)).all()


def same_origin(url, base):
    """True when url is an absolute http(s) URL on base's scheme, host and port."""
    target, ours = urlsplit(url or ""), urlsplit(base)
    return target.scheme in ("http", "https") and (target.scheme, target.netloc) == (ours.scheme, ours.netloc)


def page_url(base, path):
    """The URL the browser shows for path on our origin (base's scheme, host and port), as the JS-SDK signs it."""
    ours = urlsplit(base)
    return f"{ours.scheme}://{ours.netloc}{path.rstrip('?')}"


def renew_refused_ticket(wecom, kind):
    """A page says WeCom refused the signature made with our `corp` or `agent` ticket: drop that ticket
    so the next signature fetches a new one; False when one was renewed less than TICKET_RENEWAL_GAP
    ago (by any worker), which keeps a ticket refused for other reasons from spending WeCom's quota."""
    if not once_per(f"ticket-renewal:{kind}", TICKET_RENEWAL_GAP):
        return False
    wecom.forget_ticket(kind)
    return True
