"""Wall screens (大屏) of a branch's TV: a manager sets one up for a department of their tree and gets a pairing
link; the TV opens it once and keeps a cookie that shows that department's wall and nothing else.

Only SHA-256 digests of the secrets are stored. The link is single-use and expires; pairing again (a new link)
replaces the TV; revoking ends the link and the TV at once. Every page or refresh the TV is shown is counted
on its row (views, last_seen_at), beside who set it up and who revoked it: the record of who saw the figures.
"""
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from ..domain.access import ROOT_DEPARTMENT, departments_below, departments_managed_by
from ..extensions import db
from ..models import Department, Staff, WallScreen, utcnow

LINK_HOURS = 24  # a pairing link not opened within a day is dead: make another
NAME_MAX = 64


class InvalidWall(Exception):
    """The wall cannot be set up as asked; the message is for the manager."""


def digest(secret):
    """The stored form of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_secret():
    """A secret for a link or a cookie (256 random bits)."""
    return secrets.token_urlsafe(32)


def departments_for(manager):
    """[(id, name)] of the departments the manager may set a wall up for: their tree (the whole firm at the root)."""
    scope = departments_managed_by(manager)
    names = dict(db.session.execute(select(Department.id, Department.name)).tuples().all())
    ids = set(names) if scope is None else scope
    return sorted(((d, names.get(d) or f"部门 {d}") for d in ids), key=lambda pair: pair[0])


def walls_of(manager):
    """The wall screens of the manager's tree, newest first."""
    allowed = {d for d, _ in departments_for(manager)}
    return [w for w in db.session.scalars(select(WallScreen).order_by(WallScreen.id.desc()))
            if w.department_id in allowed]


def create_wall(manager, department_text, name):
    """A new wall for one of the manager's departments: (WallScreen, pairing secret). InvalidWall otherwise."""
    departments = dict(departments_for(manager))
    try:
        department = int(department_text)
    except (TypeError, ValueError):
        raise InvalidWall("请选择营业部") from None
    if department not in departments:
        raise InvalidWall("只能为本部门及下级部门设置大屏")
    name = (name or "").strip() or f"{departments[department]}大屏"
    if len(name) > NAME_MAX:
        raise InvalidWall(f"名称最长 {NAME_MAX} 字")
    wall = WallScreen(department_id=department, name=name, created_by=manager)
    db.session.add(wall)
    secret = _issue_link(wall)
    db.session.flush()  # the new wall's id, for the page that shows its link
    return wall, secret


def _issue_link(wall):
    """A fresh single-use link for the wall (the TV paired before it stops at once); the secret."""
    secret = _new_secret()
    wall.link_hash, wall.link_expires_at = digest(secret), utcnow() + timedelta(hours=LINK_HOURS)
    wall.device_hash = None
    return secret


def own_wall(manager, wall_id):
    """The manager's live wall of that id, or None (another tree's, revoked or unknown)."""
    wall = db.session.get(WallScreen, wall_id)
    if wall is None or wall.revoked_at is not None or wall.id not in {w.id for w in walls_of(manager)}:
        return None
    return wall


def renew_link(wall):
    """A new pairing link for the wall, replacing its TV; the secret."""
    secret = _issue_link(wall)
    return secret


def revoke(wall, manager):
    """The wall's link and TV stop now."""
    wall.link_hash = wall.device_hash = wall.link_expires_at = None
    wall.revoked_by, wall.revoked_at = manager, utcnow()


def _linked(link_secret):
    """The wall whose live, unexpired link this is, or None."""
    wall = db.session.scalar(select(WallScreen).where(WallScreen.link_hash == digest(link_secret or "")))
    if wall is None or wall.revoked_at is not None or wall.link_expires_at < utcnow():
        return None
    return wall


def link_is_live(link_secret):
    """Whether the pairing link can still be used."""
    return _linked(link_secret) is not None


def pair(link_secret):
    """The TV opens its link: the cookie's secret, or None for a used, expired, revoked or unknown link."""
    wall = _linked(link_secret)
    if wall is None:
        return None
    secret = _new_secret()
    # used once, by the database's word: of two TVs confirming at the same moment only one gets a cookie
    used = db.session.execute(update(WallScreen).where(WallScreen.id == wall.id,
                                                       WallScreen.link_hash == digest(link_secret))
                              .values(link_hash=None, link_expires_at=None, device_hash=digest(secret),
                                      paired_at=utcnow()).execution_options(synchronize_session=False))
    return secret if used.rowcount == 1 else None


def screen_for(device_secret):
    """The live wall this TV cookie belongs to, or None."""
    if not device_secret:
        return None
    wall = db.session.scalar(select(WallScreen).where(WallScreen.device_hash == digest(device_secret)))
    return wall if wall is not None and wall.revoked_at is None else None


def record_view(wall):
    """Count one page or refresh the TV was shown."""
    wall.views += 1
    wall.last_seen_at = utcnow()


def wall_scope(wall):
    """(advisors, whole firm?) of the wall's department: the department and every one below it."""
    tree = dict(db.session.execute(select(Department.id, Department.parentid)).tuples().all())
    staff = db.session.execute(select(Staff.userid, Staff.department)).tuples().all()
    if wall.department_id == ROOT_DEPARTMENT or tree.get(wall.department_id) == 0:
        return {member for member, _ in staff}, True
    scope = departments_below({wall.department_id}, tree)
    return {member for member, department in staff if scope & set(department or [])}, False


def department_name(wall):
    """The label of the wall's department."""
    department = db.session.get(Department, wall.department_id)
    return department.name if department else f"部门 {wall.department_id}"
