"""Whose figures a viewer of the workbench sees: the one rule every page and export of /manage goes through.

Today's rule is domain.access's: a manager oversees the advisors who share a WeCom department with
them; compliance, and a manager in the root department, see the whole firm. (When the department
tree is synced, this is the one place to point at domain.access.advisors_managed_by.)
"""
from ..domain.access import branch_staff, roles_of
from ..domain.directory import ensure_staff
from ..extensions import db, wecom
from ..models import Staff

ROOT_DEPARTMENT = 1  # WeCom's root department: the firm itself
FIRM_ROLES = ("compliance",)


def advisors_in_scope(userid):
    """userids of the staff whose figures userid may see (empty for someone who manages nobody)."""
    roles = roles_of(userid)
    if roles & set(FIRM_ROLES) or ("manager" in roles and _in_root(userid)):
        return set(db.session.scalars(db.select(Staff.userid)))
    if "manager" in roles:
        return branch_staff(wecom(), userid)
    return set()


def sees_firm(userid):
    """Whether userid sees the whole firm (then clients nobody follows count too)."""
    roles = roles_of(userid)
    return bool(roles & set(FIRM_ROLES)) or ("manager" in roles and _in_root(userid))


def _in_root(userid):
    """A member of the root department manages the whole firm."""
    return ROOT_DEPARTMENT in (ensure_staff(wecom(), userid).department or [])


def branch_of(department):
    """The label of an advisor's branch: their first WeCom department (the tree names it once synced)."""
    return f"部门 {department[0]}" if department else "未分配"
