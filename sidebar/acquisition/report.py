"""What channels brought: counts of arrivals, and the honest figures — relationships that lasted and
became accounts — rather than raw adds, which staff learn to game.

A contact belongs to the channel of their first arrival (a second arrival is recorded, not counted
again). Verified: arrived at least VERIFY_DAYS ago, still a contact of that advisor (or still in that
group), and matched to a trading account (domain/linking.py puts the account's external_userid).
"""
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

from sqlalchemy import func, select

from ..extensions import db
from ..models import Channel, ChannelArrival, ClientProfile, Follow, GroupMember, china_day, utcnow

VERIFY_DAYS = 7
OPENED = ("opened", "funded", "traded")
FUNDED = ("funded", "traded")


@dataclass
class ChannelFigures:
    """One channel's funnel."""

    channel: Channel
    adds: int = 0  # every arrival, repeats included
    contacts: int = 0  # people attributed to the channel (their first arrival)
    verified: int = 0
    opened: int = 0
    funded: int = 0
    days_to_open: float | None = None  # median, of those who opened after arriving

    @property
    def verified_rate(self):
        """Verified relationships per attributed contact, or None."""
        return self.verified / self.contacts if self.contacts else None


def arrival_counts():
    """channel id -> arrivals recorded."""
    return dict(db.session.execute(select(ChannelArrival.channel_id, func.count()).group_by(
        ChannelArrival.channel_id)).tuples().all())


def recent_arrivals(channel_id, limit=20):
    """The channel's latest arrivals."""
    return db.session.scalars(select(ChannelArrival).where(ChannelArrival.channel_id == channel_id)
                              .order_by(ChannelArrival.arrived_at.desc(), ChannelArrival.id.desc()).limit(limit)).all()


def channel_report(now=None):
    """ChannelFigures of every channel, live ones first."""
    now = now or utcnow()
    channels = db.session.scalars(select(Channel).order_by(Channel.retired_at.is_not(None), Channel.id)).all()
    figures = {c.id: ChannelFigures(c) for c in channels}
    arrivals = db.session.scalars(select(ChannelArrival).where(ChannelArrival.channel_id.is_not(None))
                                  .order_by(ChannelArrival.arrived_at, ChannelArrival.id)).all()
    firsts = {}
    for arrival in arrivals:
        figures[arrival.channel_id].adds += 1
        firsts.setdefault(arrival.external_userid, arrival)
    profiles = _profiles(firsts)
    live_follows, live_members = _still_there(firsts.values())
    waits = {c: [] for c in figures}
    for external_userid, arrival in firsts.items():
        row, profile = figures[arrival.channel_id], profiles.get(external_userid)
        row.contacts += 1
        stayed = (arrival.userid, external_userid) in live_follows if arrival.kind == "contact" \
            else (arrival.chat_id, external_userid) in live_members
        if profile and stayed and arrival.arrived_at <= now - timedelta(days=VERIFY_DAYS):
            row.verified += 1
        if profile and profile.stage in OPENED:
            row.opened += 1
            opened_on = opened_day(profile)
            if opened_on and opened_on >= china_day(arrival.arrived_at):
                waits[arrival.channel_id].append((opened_on - china_day(arrival.arrived_at)).days)
        if profile and profile.stage in FUNDED:
            row.funded += 1
    for channel_id, days in waits.items():
        figures[channel_id].days_to_open = median(days) if days else None
    return list(figures.values())


def channel_figures(channel_id):
    """One channel's ChannelFigures."""
    return next(row for row in channel_report() if row.channel.id == channel_id)


def opened_day(profile):
    """The first day the account was known opened or further (the import's stage_dates), or None."""
    days = [profile.stage_dates.get(stage) for stage in OPENED if (profile.stage_dates or {}).get(stage)]
    return date.fromisoformat(min(days)) if days else None


def _profiles(firsts):
    """external_userid -> the trading account linked to it (the first by account id when several)."""
    if not firsts:
        return {}
    rows = db.session.scalars(select(ClientProfile).where(ClientProfile.external_userid.in_(list(firsts)))
                              .order_by(ClientProfile.account_id)).all()
    profiles = {}
    for profile in rows:
        profiles.setdefault(profile.external_userid, profile)
    return profiles


def _still_there(arrivals):
    """({(userid, external_userid)} of live follows, {(chat_id, member_id)} of present members) among arrivals."""
    externals = list({a.external_userid for a in arrivals})
    if not externals:
        return set(), set()
    follows = set(db.session.execute(select(Follow.userid, Follow.external_userid).where(
        Follow.external_userid.in_(externals), Follow.ended_at.is_(None))).tuples().all())
    members = set(db.session.execute(select(GroupMember.chat_id, GroupMember.member_id).where(
        GroupMember.member_id.in_(externals), GroupMember.left_at.is_(None))).tuples().all())
    return follows, members
