"""The demo's organisation and service history: WeCom's department tree and staff stored as the sync stores them,
the managers of each level, and 90 days of the statistics the emulator would answer, stored as the daily job
stores them (so the job finds those days stored and only adds the new ones)."""
from datetime import timedelta

from sqlalchemy import select

from ..database import upsert
from ..domain.directory import assign, staff_values
from ..extensions import db
from ..identity.service import grant_role
from ..models import AdvisorActivity, Department, GroupActivity, Staff, china_today
from ..sync.activity import BEHAVIOR_FIELDS, GROUP_FIELDS, epoch

HISTORY_DAYS = 90


def seed_activity(world, today=None):
    """The tree, the staff and their managers' role, and HISTORY_DAYS days of statistics up to yesterday.

    `world` is the emulator's World; starting the demo again adds only the days not stored yet.
    """
    from ..emulator.statistics import behavior, owner_figures  # the emulator's own answers, without HTTP

    _store_org(world)
    today = today or china_today()
    days = [today - timedelta(days=n) for n in range(HISTORY_DAYS, 0, -1)]
    members = world.follow_users()
    groups = list(world.groups.values())
    advisor_rows, owner_rows = [], []
    for day in days:
        for userid in members:
            data = behavior(world, [userid], epoch(day))
            chats = data["chat_cnt"]
            advisor_rows.append({"userid": userid, "day": day, **{name: data[name] for name in BEHAVIOR_FIELDS},
                                 "reply_percentage": data["reply_percentage"] if chats else None,
                                 "avg_reply_time": data["avg_reply_time"] if chats else None})
            data = owner_figures([g for g in groups if g.owner == userid], [epoch(day)])
            owner_rows.append({"owner": userid, "day": day, **{name: data[name] for name in GROUP_FIELDS}})
    db.session.execute(upsert(db.engine, AdvisorActivity).values(advisor_rows).on_conflict_do_nothing())
    db.session.execute(upsert(db.engine, GroupActivity).values(owner_rows).on_conflict_do_nothing())
    db.session.flush()


def _store_org(world):
    """Departments and members as department/list and user/get give them; the seed's managers get the role."""
    stored = {d.id: d for d in db.session.scalars(select(Department))}
    for department in world.departments.values():
        row = stored.get(department.id) or Department(id=department.id)
        assign(row, {"name": department.name, "parentid": department.parentid, "order": department.id})
        db.session.add(row)
    for member in world.staff.values():
        row = db.session.get(Staff, member.userid) or Staff(userid=member.userid)
        assign(row, staff_values(member.userid, {"name": member.name, "department": list(member.department),
                                                 "position": member.position}))
        db.session.add(row)
    db.session.flush()
    for member in world.staff.values():
        if member.role == "manager":
            grant_role(member.userid, "manager")
