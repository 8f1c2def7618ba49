"""The demo's organisation and 90 days of statistics: seeded from the emulator's world, twice without duplicates,
and the daily job afterwards asks WeCom only for what is missing."""
from datetime import timedelta

from sqlalchemy import func, select

from helpers import make_app
from sidebar.domain.access import advisors_managed_by, roles_of
from sidebar.emulator import create_emulator
from sidebar.extensions import db, wecom
from sidebar.manage.activity_demo import HISTORY_DAYS, seed_activity
from sidebar.models import AdvisorActivity, Department, GroupActivity, china_today
from sidebar.sync.activity import fetch_activity


def counts():
    """Rows of the three tables."""
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Department, AdvisorActivity, GroupActivity))


def test_the_demo_seeds_the_tree_managers_and_history_and_a_second_start_adds_nothing(tmp_path, emulator):
    world = create_emulator().world
    members = world.follow_users()
    app = make_app(tmp_path / "demo.db", emulator.url, SYNC_PACE_SECONDS=0)
    with app.app_context():
        seed_activity(world)
        db.session.commit()
        first = counts()
        seed_activity(world)
        db.session.commit()
        assert counts() == first == (len(world.departments), HISTORY_DAYS * len(members), HISTORY_DAYS * len(members))
        newest = db.session.scalar(select(func.max(AdvisorActivity.day)))
        assert newest == china_today() - timedelta(days=1)
        managers = [s.userid for s in world.staff.values() if s.role == "manager"]
        assert all("manager" in roles_of(userid) for userid in managers)
        assert advisors_managed_by("qianlei") == set(world.staff)
        new_contacts = db.session.scalar(select(func.sum(AdvisorActivity.new_contact_cnt)))
        first_day = china_today() - timedelta(days=HISTORY_DAYS)
        added = sum(1 for f in world.follows.values() if f.createtime >= _epoch(first_day) and
                    f.createtime < _epoch(china_today()))
        assert new_contacts == added, "new contacts are the world's adds of those days"
        result = fetch_activity(wecom(), pace=0)
        assert (result.advisor_days, result.owner_days) == (0, 0), "the job finds the demo's days stored"


def _epoch(day):
    """China midnight of a day as epoch seconds (written out here)."""
    from datetime import datetime, timezone

    return datetime(day.year, day.month, day.day, tzinfo=timezone(timedelta(hours=8))).timestamp()
