"""Shared set-up of the SOP tests: a small world written into the database, plans through the review."""
import json
from datetime import date, datetime

from sidebar.extensions import db
from sidebar.models import CHINA, ClientProfile, ExternalContact, Follow, GroupChat, Staff
from sidebar.sop import plans, review
from sidebar.sop.tick import tick

OPERATOR, REVIEWER = "wangyun", "sunli"


def at(text):
    """An aware China-time moment from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=CHINA)


def utc(text):
    """The naive UTC of a China-time 'YYYY-MM-DD HH:MM' (as stored)."""
    from sidebar.jobs.schedule import as_utc

    return as_utc(at(text))


def add_staff(userid, name, department):
    """A corp member in one department."""
    db.session.add(Staff(userid=userid, name=name, department=[department]))


def add_group(chat_id, name, owner, created="2026-09-01 09:00"):
    """A live customer group."""
    db.session.add(GroupChat(chat_id=chat_id, name=name, owner=owner, created_at=utc(created)))


def add_client(external_userid, advisor, added="2026-09-01 09:00", name="客户", **profile):
    """A contact followed by advisor, with a trading profile when profile fields are given."""
    db.session.add(ExternalContact(external_userid=external_userid, name=name))
    db.session.add(Follow(userid=advisor, external_userid=external_userid, added_at=utc(added), remark=name))
    db.session.flush()  # the contact first: the profile refers to it
    if profile:
        db.session.add(ClientProfile(account_id="88" + external_userid[-8:], external_userid=external_userid,
                                     name=name, **profile))


def live_plan(app, plan, author=OPERATOR, reviewer=REVIEWER):
    """Import one plan, submit and approve it; returns its id."""
    with app.app_context():
        created = plans.import_plans(author, json.loads(json.dumps([plan])))
        review.submit(author, created[0].id)
        review.approve(reviewer, created[0].id)
        db.session.commit()
        return created[0].id


def run_tick(app, moment):
    """One tick at a China-time 'YYYY-MM-DD HH:MM'; returns its result."""
    with app.app_context():
        return tick(at(moment))


def day(text):
    """A date from ISO."""
    return date.fromisoformat(text)
