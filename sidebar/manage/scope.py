"""Whose figures a viewer of the workbench sees: the one rule every page and export of /manage goes through.

A manager oversees the advisors of their department and every department below it (the synced WeCom
tree, domain.access.advisors_managed_by); compliance, and a manager in the root department, see the
whole firm.
"""
from ..domain.access import advisors_managed_by, departments_managed_by, roles_of
from ..extensions import db
from ..models import Department, Staff

FIRM_ROLES = ("compliance",)


def advisors_in_scope(userid):
    """userids of the staff whose figures userid may see (empty for someone who manages nobody)."""
    roles = roles_of(userid)
    if roles & set(FIRM_ROLES):
        return set(db.session.scalars(db.select(Staff.userid)))
    if "manager" in roles:
        return advisors_managed_by(userid)
    return set()


def sees_firm(userid):
    """Whether userid sees the whole firm (then clients nobody follows count too)."""
    roles = roles_of(userid)
    return bool(roles & set(FIRM_ROLES)) or ("manager" in roles and departments_managed_by(userid) is None)


def branch_of(department, names):
    """The label of an advisor's branch: the name of their first WeCom department ({id: name} from department_names)."""
    if not department:
        return "未分配"
    return names.get(department[0]) or f"部门 {department[0]}"


def department_names():
    """{department id: name} of the synced tree, read once for a page's labels."""
    return dict(db.session.execute(db.select(Department.id, Department.name)).tuples().all())
