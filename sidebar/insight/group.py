"""Group insight (群透视): who is in this group, and is it converting.

Everything comes from local data in a fixed number of queries, whatever the group's size: the
members, the trading accounts matched to them, the viewer's follows, the group's daily snapshots.
"""
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import or_, select

from .. import versions
from ..acquisition.attribution import channel_mix
from ..domain.access import advisors_managed_by, roles_of, staff_names
from ..domain.facts import NO_VALID_ASSESSMENT, Figure, Risk, is_dormant, members_with_profiles, risk_of
from ..extensions import db
from ..models import (RISK_LEVELS, Follow, GroupChat, GroupMember, GroupSnapshot, china_day,
                      china_today, utcnow)
from . import charts

MEMBER_LIMIT = 500  # WeCom's cap on a customer group
MOVEMENT_DAYS = 7
MOVEMENT_SHOWN = 30  # names listed per direction; the count says the rest
MEMBERS_SHOWN = 50  # rows listed at first (clients first); the rest on request
ZERO = Decimal("0.00")
EPOCH = datetime(1970, 1, 1)  # sorts members without a join time last

# Clients first, by how far they got; a matched account without a stage counts as registered.
BUCKETS = {"funded": "已入金", "opened": "已开户", "applying": "开户中", "registered": "已注册",
           "prospect": "未注册"}  # no trading account matched; a WeCom tag with a stage-like name is not ours
CLIENT_BUCKETS = ("funded", "opened", "applying", "registered")
STAGE_BUCKETS = {"traded": "funded", "funded": "funded", "opened": "opened", "applying": "applying",
                 "registered": "registered", None: "registered"}
STAFF = "staff"
FILTERS = {**BUCKETS, STAFF: "员工"}
ORDER = {key: index for index, key in enumerate(FILTERS)}  # the member list's order
RISK_CLASSES = {**{level: level for level in RISK_LEVELS}, "unknown": NO_VALID_ASSESSMENT}
WINDOWS = {"30": ("近30天", 30), "90": ("近90天", 90), "all": ("建群以来", None)}
DEFAULT_WINDOW = "90"

class InvalidChoice(ValueError):
    """A window or member filter the panel does not offer."""


@dataclass
class Composition:
    """Who is in a group now: staff and externals, clients by stage, dormant, risk classes, assets."""

    members: int = 0
    staff: int = 0
    stages: Counter = field(default_factory=Counter)  # bucket -> external members
    dormant: int = 0
    risk: Counter = field(default_factory=Counter)  # class or "unknown" -> clients
    opened: int = 0  # clients at "opened" or further
    funded: int = 0  # clients at "funded" or "traded"
    client_assets: Decimal = ZERO

    @property
    def externals(self):
        """External members (clients and prospects)."""
        return self.members - self.staff

    @property
    def clients(self):
        """External members matched to a trading account, whatever its stage."""
        return sum(self.stages[bucket] for bucket in CLIENT_BUCKETS)


@dataclass
class Conversion:
    """The conversion section for one window."""

    window: str
    label: str
    since: date  # the window's first day (not before the group was created)
    first_day: date | None  # the first snapshot within the window
    figures: list
    opened: int  # accounts opened after joining the group, within the window
    funded: int  # accounts funded after joining the group, within the window


@dataclass
class Movement:
    """Who joined and who left in the last days: (name, day) pairs, newest first."""

    days: int
    joined: list
    left: list


@dataclass(slots=True)
class MemberRow:
    """A current member as the list shows them; facts only for a member the viewer may open."""

    member_id: str
    name: str
    nickname: str | None
    bucket: str  # a key of FILTERS: a client's stage, prospect or staff
    opens: bool = False  # the viewer follows them (or manages an advisor who does)
    assets: Decimal | None = None
    risk: Risk | None = None
    dormant: bool = False


@dataclass
class GroupPanel:
    """Everything the group panel shows; members' facts already limited to what the viewer may see."""

    group: GroupChat
    owner_name: str
    admins: list
    branch_view: bool  # seen as the manager of the owner's branch, not as a member
    composition: Composition
    bar: list
    conversion: Conversion
    movement: Movement
    members: list  # the rows listed
    hidden: int  # rows of the filter not listed until asked for
    stage: str  # the member filter, "" for everyone
    counts: dict  # filter -> members
    query: str = ""  # the member search (a name or group nickname contains it)
    listed: bool = True  # the list is shown (asked for); else the panel shows the count and the search
    channels: list = field(default_factory=list)  # [(channel, members)]: where the external members came from

    # Labels for the template (class constants, not fields).
    limit = MEMBER_LIMIT
    movement_shown = MOVEMENT_SHOWN
    windows = {key: label for key, (label, _) in WINDOWS.items()}
    filters = FILTERS
    chips = {"": "全部", **FILTERS}
    buckets = BUCKETS
    risk_classes = RISK_CLASSES


# -- the panel ------------------------------------------------------------------------------------

def group_panel(group, viewer, window=DEFAULT_WINDOW, stage="", show_all=False, today=None, query="",
                listed=True):
    """The panel of a group the viewer may see (service.find_group authorised it).

    The member list is built only when listed (asked for); query keeps the members whose name or
    group nickname contains it.
    """
    if window not in WINDOWS or (stage and stage not in FILTERS):
        raise InvalidChoice(window if window not in WINDOWS else stage)
    today = today or china_today()
    chat_id = group.chat_id
    since = utcnow() - timedelta(days=MOVEMENT_DAYS)
    matched = members_with_profiles([GroupMember.chat_id == chat_id,
                                      or_(GroupMember.left_at.is_(None), GroupMember.left_at >= since)], viewer)
    rows = [row for row, _ in matched]
    current = [row for row in rows if row.left_at is None]
    profiles = {row.member_id: profile for row, profile in matched if profile is not None and row.left_at is None}
    composition = compose(current, profiles, today)
    names = staff_names({group.owner} | {row.member_id for row in current if row.type == 1})
    openable = _openable(viewer, chat_id, current) if listed else set()
    members, hidden, counts = _member_rows(current, profiles, names, openable, stage, show_all, today, query)
    if not listed:
        members, hidden = [], 0
    return GroupPanel(
        group=group, owner_name=names.get(group.owner, group.owner),
        admins=[_display_name(row, names) for row in current if row.is_admin],
        branch_view=not _is_member(group, current, viewer), composition=composition,
        bar=charts.share_bar(composition.stages, BUCKETS),
        conversion=_conversion(group, composition, current, profiles, window, today),
        movement=_movement(rows, names), members=members, hidden=hidden, stage=stage, counts=counts,
        query=query, listed=listed, channels=channel_mix([row.member_id for row in current if row.type == 2]))


def panel_data(viewer, chat_id):
    """The data versions (versions.py) of what the viewer's panel of this group is computed from.

    The group's members and snapshots, every profile (matched by unionid too), staff and roles; the
    viewer's own follows — a manager's branch view reads everyone's; the group's SOP tasks.
    """
    follows = (versions.FOLLOWS,) if "manager" in roles_of(viewer) else versions.part(versions.FOLLOWS, viewer)
    return (*versions.part(versions.GROUPS, chat_id), versions.PROFILES, versions.STAFF, *follows,
            versions.CHANNELS,  # the channels' names in 来源
            *versions.part(versions.SOP, chat_id))  # whether 今日SOP is due here (sop.views.sop_due)


def compositions(chat_ids, today=None):
    """chat_id -> Composition of each group's current members, in one query whatever the sizes."""
    today = today or china_today()
    by_group = {chat_id: ([], {}) for chat_id in chat_ids}
    for row, profile in members_with_profiles([GroupMember.chat_id.in_(chat_ids), GroupMember.left_at.is_(None)]):
        members, profiles = by_group[row.chat_id]
        members.append(row)
        if profile is not None:
            profiles[row.member_id] = profile
    return {chat_id: compose(members, profiles, today) for chat_id, (members, profiles) in by_group.items()}


def compose(current, profiles, today):
    """The composition of a group from its current members and member_id -> matched profile."""
    result = Composition(members=len(current))
    for row in current:
        if row.type == 1:
            result.staff += 1
            continue
        profile = profiles.get(row.member_id)
        result.stages[_bucket(profile)] += 1
        if profile is None:
            continue
        result.dormant += is_dormant(profile, today)
        result.risk[risk_of(profile, today).effective or "unknown"] += 1
        result.opened += profile.stage in ("opened", "funded", "traded")
        result.funded += profile.stage in ("funded", "traded")
        result.client_assets += profile.total_assets or ZERO
    return result


# -- conversion -----------------------------------------------------------------------------------

def _conversion(group, composition, current, profiles, window, today):
    """Today's figures against the window's first snapshot, trends, and accounts opened after joining."""
    label, days = WINDOWS[window]
    created = china_day(group.created_at) or today  # WeCom always sends it; unknown counts as new
    since = max(today - timedelta(days=days), created) if days else created
    snapshots = db.session.execute(select(
        GroupSnapshot.day, GroupSnapshot.members, GroupSnapshot.clients, GroupSnapshot.client_assets).where(
        GroupSnapshot.chat_id == group.chat_id, GroupSnapshot.day >= since, GroupSnapshot.day < today)
        .order_by(GroupSnapshot.day)).tuples().all()
    figures = []
    for column, (key, name, now) in enumerate((("members", "成员", composition.members),
                                               ("clients", "客户", composition.clients),
                                               ("client_assets", "客户资产", composition.client_assets)), 1):
        series = [(snapshot[0], snapshot[column]) for snapshot in snapshots] + [(today, now)]
        figures.append(Figure(key, name, now, series[0][1] if snapshots else None, charts.trend(series)))
    opened, funded = _converted(current, profiles, since)
    return Conversion(window=window, label=label, since=since, first_day=snapshots[0][0] if snapshots else None,
                      figures=figures, opened=opened, funded=funded)


def _converted(current, profiles, since):
    """How many members opened, and funded, an account after joining and within the window."""
    opened = funded = 0
    for row in current:
        profile = profiles.get(row.member_id)
        if profile is None:
            continue
        # ISO dates compare as strings: no parsing for each of up to 500 members
        floor = max(since, china_day(row.joined_at) or since).isoformat()
        dates = profile.stage_dates or {}
        opened += (dates.get("opened") or "") >= floor
        funded += (dates.get("funded") or dates.get("traded") or "") >= floor
    return opened, funded


# -- movement and members -------------------------------------------------------------------------

def _movement(rows, names):
    """Joins and leaves of the last days, from join times and kept leave times."""
    since = utcnow() - timedelta(days=MOVEMENT_DAYS)
    joined = sorted((row for row in rows if row.joined_at and row.joined_at >= since),
                    key=lambda row: row.joined_at, reverse=True)
    left = sorted((row for row in rows if row.left_at and row.left_at >= since),
                  key=lambda row: row.left_at, reverse=True)
    return Movement(days=MOVEMENT_DAYS,
                    joined=[(_display_name(row, names), china_day(row.joined_at)) for row in joined],
                    left=[(_display_name(row, names), china_day(row.left_at)) for row in left])


def _member_rows(current, profiles, names, openable, stage, show_all, today, query=""):
    """(rows listed, rows not listed, filter -> count) of the member list.

    Clients by stage, then prospects, then staff; within a stage the members the viewer may open
    first, by assets, then the newest joiners. Facts only for members the viewer may open. The
    counts are of everyone; the rows only of the stage and the search.
    """
    entries = []
    for row in sorted(current, key=lambda row: row.joined_at or EPOCH, reverse=True):
        profile = profiles.get(row.member_id)
        bucket = STAFF if row.type == 1 else _bucket(profile)
        opens = row.member_id in openable
        assets = profile.total_assets if opens and profile is not None else None
        entries.append((ORDER[bucket], not opens, -(assets or 0), bucket, row, profile if opens else None))
    entries.sort(key=lambda entry: entry[:3])  # stable: the newest joiners stay first among equals
    counts = {"": len(entries), **Counter(entry[3] for entry in entries)}
    query = query.casefold()
    listed = [entry for entry in entries if (not stage or entry[3] == stage)
              and (not query or _matches(entry[4], names, query))]
    shown = listed if show_all else listed[:MEMBERS_SHOWN]
    rows = [_member_row(row, bucket, row.member_id in openable, profile, names, today)
            for _, _, _, bucket, row, profile in shown]
    return rows, len(listed) - len(shown), counts


def _member_row(row, bucket, opens, profile, names, today):
    """One listed member; profile is None unless the viewer may open them."""
    member = MemberRow(member_id=row.member_id, name=_display_name(row, names),
                       nickname=row.group_nickname if row.group_nickname != row.name else None,
                       bucket=bucket, opens=opens)
    if profile is not None:
        member.assets = profile.total_assets
        member.risk = risk_of(profile, today)
        member.dormant = is_dormant(profile, today)
    return member


def _openable(viewer, chat_id, current):
    """External members the viewer follows, or, for a manager, whom an advisor of their department tree follows."""
    openable = {row.member_id for row in current if row.followed}
    if "manager" not in roles_of(viewer):
        return openable
    members = select(GroupMember.member_id).where(
        GroupMember.chat_id == chat_id, GroupMember.type == 2, GroupMember.left_at.is_(None))
    follows = db.session.execute(select(Follow.userid, Follow.external_userid).where(
        Follow.external_userid.in_(members), Follow.ended_at.is_(None))).all()
    branch = advisors_managed_by(viewer)
    return openable | {external_userid for userid, external_userid in follows if userid in branch}


# -- queries and small helpers --------------------------------------------------------------------

def _is_member(group, current, userid):
    """Owner or current staff member: the viewer is in the group, not seeing it as a branch manager."""
    return group.owner == userid or any(row.type == 1 and row.member_id == userid for row in current)


def _bucket(profile):
    """The stage bucket of an external member: prospect when no account is matched."""
    return "prospect" if profile is None else STAGE_BUCKETS.get(profile.stage, "registered")


def _matches(row, names, query):
    """Whether a member's shown name or group nickname contains the (casefolded) search."""
    return any(query in (text or "").casefold() for text in (_display_name(row, names), row.group_nickname))


def _display_name(row, names):
    """A staff member's name, else the member's WeChat name or group nickname."""
    return names.get(row.member_id) or row.name or row.group_nickname or "未知成员"
