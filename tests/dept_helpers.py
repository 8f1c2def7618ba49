"""Shared set-up of the department-scope tests: the emulator's tree and staff stored as the full sync stores them."""
from sidebar.domain.directory import ensure_staff
from sidebar.extensions import db, wecom
from sidebar.identity.service import grant_role
from sidebar.sync.departments import refresh_departments

# The emulator's tree (sidebar/emulator/seed.py): 申江证券 (1) > 上海分公司 (2) > 浦东 (3), 徐汇 (4), 静安 (7)
PUDONG, XUHUI = "zhangwei", "wangfang"  # advisors of 浦东营业部 and 徐汇营业部
BRANCH_MANAGERS = {"zhouqiang": 3, "hemin": 4}  # 营业部负责人
REGION_MANAGER, ROOT_MANAGER = "wujun", "qianlei"  # 上海分公司 (2) and head office (1)


def store_org(app, world):
    """The department tree and every seeded member stored, the managers granted their role."""
    with app.app_context():
        refresh_departments(wecom())
        for member in world["staff"]:
            ensure_staff(wecom(), member["userid"])
        for userid in (*BRANCH_MANAGERS, REGION_MANAGER, ROOT_MANAGER):
            grant_role(userid, "manager")
        db.session.commit()


def departments_below(world, roots):
    """The departments in roots and under them, walked here from the emulator's tree (not the app's)."""
    parents = {d["id"]: d["parentid"] for d in world["departments"]}

    def under(department):
        while department:
            if department in roots:
                return True
            department = parents.get(department, 0)
        return False
    return {d["id"] for d in world["departments"] if under(d["id"])}


def staff_below(world, department_ids):
    """userids of the seeded staff in these departments and any department under them (the test's own walk)."""
    below = departments_below(world, department_ids)
    return {s["userid"] for s in world["staff"] if below & set(s["department"])}
