"""Where a contact came from (来源): the channel of their first arrival, and any later ones; a group's
members by channel. Read from local rows only: the panels never wait on WeCom."""
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import Channel, ChannelArrival, GroupMember, china_day

UNKNOWN = "其他来源"


@dataclass
class Source:
    """The channel a contact is attributed to, when, and the channels of their later arrivals."""

    channel: str
    day: date
    again: list = field(default_factory=list)  # [(channel name, day)]


def source_of(external_userid):
    """The contact's Source, or None when no channel brought them."""
    rows = db.session.execute(select(Channel.name, ChannelArrival.arrived_at).join(
        Channel, Channel.id == ChannelArrival.channel_id).where(ChannelArrival.external_userid == external_userid)
        .order_by(ChannelArrival.arrived_at, ChannelArrival.id)).tuples().all()
    if not rows:
        return None
    (name, arrived), later = rows[0], rows[1:]
    return Source(name, china_day(arrived), [(n, china_day(a)) for n, a in later])


def composition(chat_id):
    """[(channel name or 其他来源, members)] of a group's present external members, largest first."""
    members = db.session.scalars(select(GroupMember.member_id).where(
        GroupMember.chat_id == chat_id, GroupMember.type == 2, GroupMember.left_at.is_(None))).all()
    if not members:
        return []
    firsts = {}
    for member_id, name in db.session.execute(select(ChannelArrival.external_userid, Channel.name).join(
            Channel, Channel.id == ChannelArrival.channel_id).where(ChannelArrival.external_userid.in_(members))
            .order_by(ChannelArrival.arrived_at, ChannelArrival.id)).tuples():
        firsts.setdefault(member_id, name)
    counts = Counter(firsts.get(m, UNKNOWN) for m in members)
    return sorted(counts.items(), key=lambda item: (item[0] == UNKNOWN, -item[1], item[0]))
