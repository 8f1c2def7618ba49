"""The clients a workbench viewer may count: each WeCom contact with its owning advisor and trading profile.

A contact belongs to the advisor who added it first (colleagues who follow it later share it, they do
not own it); figures count a contact once, for its owner, and only owners in the viewer's scope.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import STAGES, ClientProfile, ExternalContact, Follow, Staff, china_day
from .scope import branch_of, department_names

FUNNEL_STEPS = ("registered", "opened", "funded", "traded")  # after "added": the steps head office counts


@dataclass
class Journey:
    """A contact as the workbench counts it."""

    external_userid: str
    name: str
    advisor: str
    added: date | None  # China day the owner added the contact
    account_id: str | None
    stage_dates: dict  # stage -> date
    last_trade: date | None
    profile: object  # the ClientProfile row, or None

    def reached(self, step, until):
        """Whether the contact had reached step (or a later stage) by the end of day `until`."""
        later = STAGES[STAGES.index(step):]
        return any(day <= until for stage, day in self.stage_dates.items() if stage in later)


def journeys(advisors):
    """Every contact owned by one of the advisors, with its newest linked profile, in three queries."""
    owners = _owners()
    mine = {ext: follow for ext, follow in owners.items() if follow.userid in advisors}
    profiles = {}
    rows = db.session.scalars(select(ClientProfile).where(ClientProfile.external_userid.in_(list(mine)))
                              .order_by(ClientProfile.updated_at, ClientProfile.account_id)) if mine else []
    for profile in rows:  # the newest profile of a contact wins, as in domain.facts.profile_of
        profiles[profile.external_userid] = profile
    return [_journey(follow, profiles.get(ext)) for ext, follow in mine.items()]


def _owners():
    """external_userid -> the follow of the advisor who added it first (ended follows included: history)."""
    owners = {}
    rows = db.session.execute(
        select(Follow.external_userid, Follow.userid, Follow.added_at, Follow.remark, ExternalContact.name)
        .join(ExternalContact).order_by(Follow.added_at.is_(None), Follow.added_at, Follow.id))
    for follow in rows:
        owners.setdefault(follow.external_userid, follow)
    return owners


def _journey(follow, profile):
    """One Journey from the owning follow and the profile."""
    dates = {stage: date.fromisoformat(day) for stage, day in ((profile.stage_dates or {}) if profile else {}).items()}
    return Journey(external_userid=follow.external_userid, name=follow.remark or follow.name,
                   advisor=follow.userid, added=china_day(follow.added_at),
                   account_id=profile.account_id if profile else None, stage_dates=dates,
                   last_trade=profile.last_trade_date if profile else None, profile=profile)


def advisor_labels(advisors):
    """userid -> (name, branch label) of the advisors."""
    rows = db.session.execute(select(Staff.userid, Staff.name, Staff.department).where(
        Staff.userid.in_(list(advisors)))) if advisors else []
    names = department_names()
    labels = {userid: (name, branch_of(department, names)) for userid, name, department in rows}
    return {userid: labels.get(userid, (userid, branch_of(None, names))) for userid in advisors}


def owners_of(accounts):
    """account_id -> (owning advisor, the client's name) of the accounts linked to a contact, in two queries."""
    if not accounts:
        return {}
    linked = dict(db.session.execute(select(ClientProfile.account_id, ClientProfile.external_userid).where(
        ClientProfile.account_id.in_(list(accounts)), ClientProfile.external_userid.is_not(None))).tuples().all())
    owners = _owners()
    return {account: (owners[ext].userid, owners[ext].remark or owners[ext].name)
            for account, ext in linked.items() if ext in owners}
