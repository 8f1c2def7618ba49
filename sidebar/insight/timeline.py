"""One timeline (客户动态) of a client: notes, shares (sent and blocked), opens, journey stages reached,
SOP tasks done or skipped, groups joined and left, tags added or removed in the sidebar — one feed,
newest first, paged.

Each source gives its newest rows up to the end of the page asked for, so a page costs a fixed
number of queries; the feed is merged in Python. Authorised like the notes (the viewer's follow, or
a manager's branch view) and logged as a view of the client. Tag changes are those made through the
sidebar's profile edit (TagChange); a change made in WeCom itself reaches us only as the new state.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from ..domain.access import staff_names
from ..domain.facts import STAGE_LABELS, profile_of
from ..extensions import db
from ..models import (CHINA, STAGES, FollowUpNote, GroupChat, GroupMember, LinkOpen, MaterialVersion, Share,
                      SopPlan, SopTask, TagChange)
from .contact import _log_view, viewable_follow

PAGE_SIZE = 20
SHOWN_SHARES = ("sent", "blocked")
CLIENT = "客户"
SOP_WORDS = {"done": "已完成", "late": "已完成（逾期）", "skipped": "已跳过"}


@dataclass
class Event:
    """One line of the feed: when (naive UTC, or a China day), what, and who."""

    at: datetime  # for order: naive UTC
    kind: str  # note, share, blocked, open, stage, sop, joined, left, tag
    text: str
    who: str  # an advisor's userid (named later), or 客户
    day_only: bool = False  # a journey stage: the trading system gives its date, not its time


@dataclass
class Timeline:
    """A page of the feed."""

    external_userid: str
    events: list
    names: dict
    page: int
    more: bool


def timeline_section(wecom, viewer, external_userid, page=1):
    """A page (1-based) of the client's timeline; NotVisible when the viewer may not read the client."""
    follow, _ = viewable_follow(wecom, viewer, external_userid)
    external_userid = follow.external_userid
    page = max(1, min(page, 50))
    upto = page * PAGE_SIZE + 1  # one more than the page's end tells whether there is more
    events = sorted((*_notes(external_userid, upto), *_shares(external_userid, upto), *_opens(external_userid, upto),
                     *_stages(external_userid), *_sop(external_userid, upto), *_groups(external_userid, upto),
                     *_tags(external_userid, upto)),
                    key=lambda e: e.at, reverse=True)
    shown = events[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    names = staff_names({e.who for e in shown if e.who != CLIENT})
    _log_view(viewer, external_userid)
    return Timeline(external_userid, shown, names, page, len(events) > page * PAGE_SIZE)


def _notes(external_userid, limit):
    """Follow-up notes, by any advisor."""
    rows = db.session.scalars(db.select(FollowUpNote).where(FollowUpNote.external_userid == external_userid)
                              .order_by(FollowUpNote.created_at.desc()).limit(limit))
    return [Event(n.created_at, "note", f"跟进记录：{n.body}", n.author) for n in rows]


def _shares(external_userid, limit):
    """Materials sent to the client, and shares compliance blocked (with the reason)."""
    rows = db.session.execute(
        db.select(Share.status, Share.advisor, Share.created_at, Share.result_at, Share.reason, MaterialVersion.title)
        .outerjoin(MaterialVersion, MaterialVersion.id == Share.version_id)
        .where(Share.target_type == "contact", Share.target_id == external_userid, Share.status.in_(SHOWN_SHARES))
        .order_by(Share.created_at.desc()).limit(limit))
    return [Event(result_at or created_at, "share", f"发送《{title or 'SOP 话术'}》", advisor) if status == "sent"
            else Event(created_at, "blocked", f"发送《{title}》被拦截：{reason}", advisor)
            for status, advisor, created_at, result_at, reason, title in rows]


def _opens(external_userid, limit):
    """The client opening a tracked link sent to them."""
    rows = db.session.execute(
        db.select(LinkOpen.opened_at, MaterialVersion.title).join(Share, Share.id == LinkOpen.share_id)
        .join(MaterialVersion, MaterialVersion.id == Share.version_id)
        .where(Share.target_type == "contact", Share.target_id == external_userid)
        .order_by(LinkOpen.opened_at.desc()).limit(limit))
    return [Event(opened_at, "open", f"打开了《{title}》", CLIENT) for opened_at, title in rows]


def _stages(external_userid):
    """Journey stages the trading system dated (at most one per stage)."""
    profile = profile_of(external_userid)
    dates = (profile.stage_dates or {}) if profile else {}
    return [Event(_china_midnight(date.fromisoformat(dates[stage])), "stage", f"达成：{STAGE_LABELS[stage]}", CLIENT,
                  day_only=True) for stage in STAGES if dates.get(stage)]


def _sop(external_userid, limit):
    """SOP tasks of this client's chat, done or skipped (with the reason)."""
    rows = db.session.execute(
        db.select(SopTask.status, SopTask.advisor, SopTask.done_at, SopTask.reason, SopPlan.name)
        .join(SopPlan, SopPlan.id == SopTask.plan_id)
        .where(SopTask.chat_kind == "contact", SopTask.chat_id == external_userid,
               SopTask.status.in_(tuple(SOP_WORDS)), SopTask.done_at.is_not(None))
        .order_by(SopTask.done_at.desc()).limit(limit))
    return [Event(done_at, "sop", f"SOP「{name}」{SOP_WORDS[status]}" + (f"：{reason}" if status == "skipped" and reason
                                                                        else ""), advisor)
            for status, advisor, done_at, reason, name in rows]


def _groups(external_userid, limit):
    """Groups the client joined and left."""
    rows = db.session.execute(
        db.select(GroupMember.joined_at, GroupMember.left_at, GroupChat.name)
        .join(GroupChat, GroupChat.chat_id == GroupMember.chat_id)
        .where(GroupMember.member_id == external_userid)
        .order_by(GroupMember.joined_at.desc()).limit(limit))
    events = []
    for joined_at, left_at, name in rows:
        if joined_at:
            events.append(Event(joined_at, "joined", f"加入群「{name or '未命名客户群'}」", CLIENT))
        if left_at:
            events.append(Event(left_at, "left", f"退出群「{name or '未命名客户群'}」", CLIENT))
    return events


def _tags(external_userid, limit):
    """Tags an advisor added or removed in the sidebar."""
    rows = db.session.execute(
        db.select(TagChange.changed_at, TagChange.action, TagChange.tag_name, TagChange.userid)
        .where(TagChange.external_userid == external_userid)
        .order_by(TagChange.changed_at.desc(), TagChange.id.desc()).limit(limit))
    return [Event(changed_at, "tag", f"{'添加' if action == 'add' else '移除'}标签「{name}」", userid)
            for changed_at, action, name, userid in rows]


def _china_midnight(day):
    """The start of a China day as naive UTC, so that a dated stage sorts among timed events."""
    return datetime.combine(day, time.min, CHINA).astimezone(timezone.utc).replace(tzinfo=None)
