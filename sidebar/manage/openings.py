"""开户实况: today's journey steps by branch and advisor, against the same time yesterday and a week ago,
and each opening attributed to its advisor, the group the client was in, and the last touch before it.

A step counts on the day it happened, from the moment the trading system told us (JourneyEvent): "by
this time yesterday" is what we had learnt by then, so steps pushed late do not inflate the past.
"""
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, or_, select

from ..acquisition.attribution import first_channels
from ..extensions import db
from ..models import (CHINA, STAGES, ClientProfile, GroupChat, GroupMember, JourneyEvent, Material, Share, SopPlan,
                      SopTask)
from ..domain.facts import STAGE_LABELS
from .journeys import advisor_labels, owners_of

KIND_LABELS = {stage: STAGE_LABELS[stage] for stage in STAGES}
UNKNOWN_CHANNEL = "未知渠道"  # no channel's code brought the client (they were added some other way)
COMPARED = {"yesterday": 1, "last_week": 7}  # days back, at the same time of day


@dataclass
class Opening:
    """One step of today, attributed."""

    account_id: str
    kind: str
    at: datetime  # naive UTC, when we learnt of it
    advisor: str | None
    name: str | None
    group: str | None = None
    touch: str | None = None  # the last material or SOP step that reached the client before it
    touch_at: datetime | None = None
    advisor_name: str | None = None
    channel: str = UNKNOWN_CHANNEL  # the channel of the client's first arrival


@dataclass
class Live:
    """The page: counts per kind now and at the same time on the compared days, per advisor, the openings."""

    now: datetime
    totals: dict  # kind -> {"today": n, "yesterday": n, "last_week": n}
    by_advisor: list  # (userid, name, branch, Counter kind -> n)
    by_branch: list  # (branch, Counter)
    openings: list[Opening]


def live(advisors, now, firm=False):
    """Today's figures for the advisors' clients (and unattributed ones for a firm-wide viewer)."""
    today = now.astimezone(CHINA).date()
    days = {"today": today, **{key: today - timedelta(days=back) for key, back in COMPARED.items()}}
    events = _events(list(days.values()))
    owner = owners_of({e.account_id for e in events})
    mine = [e for e in events if owner.get(e.account_id, (None, None))[0] in advisors
            or (firm and e.account_id not in owner)]
    totals = {kind: {key: sum(1 for e in mine if e.kind == kind and e.day == day and _known_by(e, day, now))
                     for key, day in days.items()} for kind in KIND_LABELS}
    todays = [e for e in mine if e.day == today]
    labels = advisor_labels(advisors)
    per_advisor = {userid: Counter() for userid in labels}
    for event in todays:
        userid = owner.get(event.account_id, (None, None))[0]
        if userid in per_advisor:
            per_advisor[userid][event.kind] += 1
    by_advisor = [(userid, *labels[userid], counts) for userid, counts in
                  sorted(per_advisor.items(), key=lambda item: (labels[item[0]][1], -item[1]["opened"], item[0]))
                  if counts]
    branches = {}
    for userid, _, branch, counts in by_advisor:
        branches.setdefault(branch, Counter()).update(counts)
    openings = attribute([e for e in todays if e.kind == "opened"], owner)
    for opening in openings:
        opening.advisor_name = labels[opening.advisor][0] if opening.advisor in labels else None
    return Live(now=now, totals=totals, by_advisor=by_advisor, by_branch=sorted(branches.items()), openings=openings)


def todays_steps(advisors, now, kind, advisor=None, firm=False):
    """The attributed steps of one kind today behind a figure of the page (one advisor's, or all in scope)."""
    today = now.astimezone(CHINA).date()
    events = [e for e in _events([today]) if e.kind == kind]
    owner = owners_of({e.account_id for e in events})
    mine = [e for e in events if owner.get(e.account_id, (None, None))[0] in advisors
            or (firm and not advisor and e.account_id not in owner)]
    if advisor:
        mine = [e for e in mine if owner.get(e.account_id, (None, None))[0] == advisor]
    steps = attribute(mine, owner)
    labels = advisor_labels(advisors)
    for step in steps:
        step.advisor_name = labels[step.advisor][0] if step.advisor in labels else None
    return steps


def _events(days):
    """The journey steps of those days."""
    return list(db.session.scalars(select(JourneyEvent).where(JourneyEvent.day.in_(days),
                                                              JourneyEvent.kind.in_(list(KIND_LABELS)))))


def _known_by(event, day, now):
    """Whether we had learnt of the step by the time of day `now` shows, on `day`."""
    cutoff = datetime.combine(day, now.astimezone(CHINA).time(), CHINA)
    return event.recorded_at <= cutoff.astimezone(timezone.utc).replace(tzinfo=None)


def attribute(events, owner):
    """Openings with their advisor, the channel that brought the client, the group they were in then, and the
    last touch before."""
    profiles = {p.account_id: p for p in db.session.scalars(
        select(ClientProfile).where(ClientProfile.account_id.in_([e.account_id for e in events])))} if events else {}
    channels = first_channels({p.external_userid for p in profiles.values() if p.external_userid})
    openings = []
    for event in sorted(events, key=lambda e: e.recorded_at, reverse=True):
        advisor, name = owner.get(event.account_id, (None, None))
        profile = profiles.get(event.account_id)
        opening = Opening(event.account_id, event.kind, event.recorded_at, advisor, name or (profile and profile.name))
        if profile is not None:
            opening.channel = channels.get(profile.external_userid, UNKNOWN_CHANNEL)
            groups = _groups_then(profile, event.recorded_at)
            opening.group = groups[0][1] if groups else None
            opening.touch, opening.touch_at = _last_touch(profile.external_userid, groups, event.recorded_at)
        openings.append(opening)
    return openings


def _groups_then(profile, moment):
    """(chat_id, name) of the groups the client was a member of at that moment, latest joined first."""
    who = [GroupMember.member_id == profile.external_userid] if profile.external_userid else []
    if profile.unionid:
        who.append(GroupMember.unionid == profile.unionid)
    if not who:
        return []
    rows = db.session.execute(
        select(GroupMember.chat_id, GroupChat.name).join(GroupChat)
        .where(or_(*who), GroupMember.type == 2, or_(GroupMember.joined_at.is_(None), GroupMember.joined_at <= moment),
               or_(GroupMember.left_at.is_(None), GroupMember.left_at > moment))
        .order_by(GroupMember.joined_at.desc(), GroupMember.id.desc()))
    return [tuple(row) for row in rows]


def _last_touch(external_userid, groups, moment):
    """(label, when) of the last share sent to the client or a group they were in before moment, or (None, None)."""
    targets = []
    if external_userid:
        targets.append(and_(Share.target_type == "contact", Share.target_id == external_userid))
    if groups:
        targets.append(and_(Share.target_type == "group", Share.target_id.in_([chat for chat, _ in groups])))
    if not targets:
        return None, None
    sent_at = Share.result_at
    share = db.session.scalar(select(Share).where(or_(*targets), Share.status == "sent", sent_at <= moment)
                              .order_by(sent_at.desc(), Share.id.desc()).limit(1))
    if share is None:
        return None, None
    return _touch_label(share), share.result_at


def _touch_label(share):
    """物料 title, or the SOP plan and step the share was sent for."""
    if share.task_id:
        task = db.session.get(SopTask, share.task_id)
        plan = db.session.get(SopPlan, task.plan_id)
        return f"SOP · {plan.name} 第{task.step + 1}步"
    if share.material_id:
        material = db.session.get(Material, share.material_id)
        return f"物料 · {share.version.title if share.version else material.id}"
    return "消息"
