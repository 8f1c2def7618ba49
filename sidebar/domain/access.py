"""Access rules: may this advisor see this client or group. Local data first; WeCom asked once for what we
may not know yet."""
import re
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, delete

from ..database import upsert
from ..extensions import db
from ..models import Department, ExternalContact, Follow, GroupChat, GroupMember, Role, Staff, WeComMiss, utcnow
from ..ratelimit import enforce
from ..wecom import WeComError, WeComUnavailable, errors
from .directory import ensure_staff, store_contact, store_group

ID_PATTERN = re.compile(r"[A-Za-z0-9_\-@.]{1,64}")
ROOT_DEPARTMENT = 1  # WeCom's root department: the firm (head office)
REFETCH_AFTER = timedelta(minutes=5)  # a relation WeCom has not told us about yet may be new
# and an id WeCom said it does not know is not asked about again sooner (every worker shares the answer)

# The panels' statements are built once, at import: building and keying a statement costs more
# than running it on an index (~0.3 ms against ~0.2 ms a statement, bench/README.md).
ACTIVE_FOLLOW = db.select(Follow).where(Follow.userid == bindparam("userid"),
                                        Follow.external_userid == bindparam("external_userid"),
                                        Follow.ended_at.is_(None))
STAFF_IN_GROUP = db.select(GroupMember.id).where(GroupMember.chat_id == bindparam("chat_id"),
                                                 GroupMember.member_id == bindparam("userid"),
                                                 GroupMember.type == 1, GroupMember.left_at.is_(None))
STAFF_NAMES = db.select(Staff.userid, Staff.name).where(Staff.userid.in_(bindparam("userids", expanding=True)))
RECENT_MISS = db.select(WeComMiss.kind).where(WeComMiss.kind == bindparam("kind"),
                                              WeComMiss.object_id == bindparam("object_id"),
                                              WeComMiss.checked_at > bindparam("since"))


class NotVisible(Exception):
    """Unknown, or not the advisor's: the two look the same from outside (404)."""


class Unavailable(Exception):
    """Never seen locally and WeCom cannot be asked right now (503)."""


def roles_of(userid):
    """The console roles granted to a member."""
    return {row.role for row in db.session.scalars(db.select(Role).where(Role.userid == userid))}


def find_follow(wecom, userid, external_userid):
    """The advisor's active follow, from local data; ask WeCom once for what we may not know."""
    if not ID_PATTERN.fullmatch(external_userid or ""):
        raise NotVisible
    follow = _active_follow(userid, external_userid)
    if follow is None:
        contact = db.session.get(ExternalContact, external_userid)
        if _due_refetch(contact, "contact", external_userid):
            _refetch(lambda: store_contact(wecom.get_external_contact(external_userid)),
                     userid, "contact", external_userid, known=contact is not None)
        # look again even without a fetch: a colleague's open may have stored it since the first look
        follow = _active_follow(userid, external_userid)
    if follow is None:
        raise NotVisible
    return follow


def find_group(wecom, userid, chat_id):
    """The live group if the viewer may see it, from local data; ask WeCom once for what we may not know."""
    if not ID_PATTERN.fullmatch(chat_id or ""):
        raise NotVisible
    group = db.session.get(GroupChat, chat_id)
    if not _may_see_group(wecom, group, userid) and _due_refetch(group, "group", chat_id):
        _refetch(lambda: store_group(wecom.get_group_chat(chat_id)), userid, "group", chat_id,
                 known=group is not None)
        group = db.session.get(GroupChat, chat_id)
    if not _may_see_group(wecom, group, userid):
        raise NotVisible
    return group


def _active_follow(userid, external_userid):
    """The advisor's current relation to the contact, or None."""
    return db.session.scalar(ACTIVE_FOLLOW, {"userid": userid, "external_userid": external_userid})


def in_group(group, userid):
    """Owner, admin or current staff member of a live group."""
    if group is None or group.dismissed_at is not None:
        return False
    if group.owner == userid:
        return True
    return db.session.scalar(STAFF_IN_GROUP, {"chat_id": group.chat_id, "userid": userid}) is not None


def same_branch(wecom, manager, userid):
    """Whether userid works in the manager's department tree (advisors_managed_by): the manager oversees them."""
    ensure_staff(wecom, manager)
    ensure_staff(wecom, userid)
    return userid in advisors_managed_by(manager)


def advisors_managed_by(userid):
    """userids of the staff we know in the member's departments and every department below them; the whole
    firm for a member of the root (head office). Whether they manage at all is the caller's rule (roles)."""
    staff = db.session.execute(db.select(Staff.userid, Staff.department)).tuples().all()
    scope = departments_managed_by(userid)
    if scope is None:
        return {member for member, _ in staff}
    return {member for member, department in staff if scope & set(department or [])}


def departments_managed_by(userid):
    """The member's departments and every department below them, from the local tree; None for the whole firm
    (a member of the root department)."""
    staff = db.session.get(Staff, userid)
    own = set(staff.department or []) if staff else set()
    tree = dict(db.session.execute(db.select(Department.id, Department.parentid)).tuples().all())
    if own & {ROOT_DEPARTMENT, *(d for d, parent in tree.items() if parent == 0)}:
        return None
    return departments_below(own, tree)


def departments_below(roots, tree):
    """The departments in roots and every department under them; tree maps id -> parentid."""
    children = {}
    for department, parent in tree.items():
        children.setdefault(parent, []).append(department)
    scope, todo = set(), list(roots)
    while todo:  # the visited set also ends a cycle a broken tree might have
        department = todo.pop()
        if department not in scope:
            scope.add(department)
            todo.extend(children.get(department, ()))
    return scope


def manages_owner(wecom, userid, group):
    """A branch manager (role `manager`) of the group owner's branch."""
    if group is None or group.dismissed_at is not None or "manager" not in roles_of(userid):
        return False
    try:
        return same_branch(wecom, userid, group.owner)  # a failed user/get wrote nothing: nothing to undo
    except WeComError:  # a member WeCom cannot describe right now sees nothing extra
        return False


def _may_see_group(wecom, group, userid):
    """Owner, admin, member, or the manager of the owner's branch."""
    return in_group(group, userid) or manages_owner(wecom, userid, group)


def _due_refetch(row, kind, object_id):
    """Unknown locally, or not fetched for a while, and not an id WeCom just said it does not know:
    worth one question to WeCom."""
    if row is not None and utcnow() - row.fetched_at <= REFETCH_AFTER:
        return False
    since = utcnow() - REFETCH_AFTER
    return db.session.scalar(RECENT_MISS, {"kind": kind, "object_id": object_id, "since": since}) is None


def _refetch(fetch_and_store, userid, kind, object_id, known):
    """Run a fetch, within the advisor's lookup limit (429 beyond it); WeCom's 'no such thing' means not
    visible and is remembered, an outage only matters if unknown."""
    enforce(f"lookup:{userid}", *current_app.config["LOOKUP_RATE_LIMIT"])
    try:
        fetch_and_store()  # WeCom's error comes before anything is stored: nothing to undo
    except WeComError as error:
        # busy to the end or rate-limited is WeCom's trouble, not an answer about the object
        trouble = isinstance(error, WeComUnavailable) or error.errcode in (errors.BUSY, *errors.RATE_LIMITED)
        if not trouble:
            _remember_miss(kind, object_id)
            raise NotVisible from None
        if not known:
            raise Unavailable from None


def _remember_miss(kind, object_id):
    """Record WeCom's 'no such thing' for REFETCH_AFTER; misses older than that are forgotten.

    Boundary: committed here, because the request then fails (404), and its rollback must not forget the miss.
    """
    now = utcnow()
    db.session.execute(delete(WeComMiss).where(WeComMiss.checked_at <= now - REFETCH_AFTER))
    db.session.execute(upsert(db.engine, WeComMiss).values(kind=kind, object_id=object_id, checked_at=now)
                       .on_conflict_do_update(index_elements=[WeComMiss.kind, WeComMiss.object_id],
                                              set_={"checked_at": now}))
    db.session.commit()


def staff_names(userids):
    """userid -> name for the staff we know (a plain read on the session's connection: no ORM work)."""
    if not userids:
        return {}
    return dict(db.session.connection().execute(STAFF_NAMES, {"userids": list(userids)}).tuples().all())
