"""Where a contact came from (来源): the channel of their first arrival, and any later ones; a group's
members by channel. Read from local rows only: the panels never wait on WeCom."""
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam, select

from ..extensions import db
from ..models import Channel, ChannelArrival, china_day

UNKNOWN = "其他来源"
# Built once and run on the request's connection: every client panel asks it (see domain.access.ACTIVE_FOLLOW).
ARRIVALS = (select(Channel.name, ChannelArrival.arrived_at)
            .join(Channel, Channel.id == ChannelArrival.channel_id)
            .where(ChannelArrival.external_userid == bindparam("external_userid"))
            .order_by(ChannelArrival.arrived_at, ChannelArrival.id))


@dataclass
class Source:
    """The channel a contact is attributed to, when, and the channels of their later arrivals."""

    channel: str
    day: date
    again: list = field(default_factory=list)  # [(channel name, day)]


def source_of(external_userid):
    """The contact's Source, or None when no channel brought them."""
    rows = db.session.connection().execute(ARRIVALS, {"external_userid": external_userid}).tuples().all()
    if not rows:
        return None
    (name, arrived), later = rows[0], rows[1:]
    return Source(name, china_day(arrived), [(n, china_day(a)) for n, a in later])


def channel_mix(member_ids):
    """[(channel name or 其他来源, members)] of a group's external members, largest first, in one query; []
    when no channel brought any of them."""
    if not member_ids:
        return []
    firsts = first_channels(member_ids)
    if not firsts:
        return []
    counts = Counter(firsts.get(m, UNKNOWN) for m in member_ids)
    return sorted(counts.items(), key=lambda item: (item[0] == UNKNOWN, -item[1], item[0]))


def first_channels(external_userids):
    """external_userid -> the name of the channel of their first arrival, in one query; absent when none."""
    firsts = {}
    if not external_userids:
        return firsts
    for contact, name in db.session.execute(select(ChannelArrival.external_userid, Channel.name).join(
            Channel, Channel.id == ChannelArrival.channel_id).where(
            ChannelArrival.external_userid.in_(list(external_userids)))
            .order_by(ChannelArrival.arrived_at, ChannelArrival.id)).tuples():
        firsts.setdefault(contact, name)
    return firsts
