"""Client insight (客户透视): who this contact is to the firm, and what to do next."""
from collections import namedtuple
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import bindparam, insert, select

from .. import versions
from ..acquisition.attribution import source_of
from ..domain.access import ACTIVE_FOLLOW, NotVisible, find_follow, roles_of, same_branch
from ..domain.directory import ensure_staff
from ..domain.facts import ADD_WAYS, PROFILE_GROUP, STAGE_LABELS, Risk, is_dormant, risk_of
from ..extensions import db
from ..masking import mask_account, mask_mobile
from ..materials.tracking import shares_for_contact
from ..models import (STAGES, AssetSnapshot, ClientProfile, ClientView, ExternalContact, Follow, FollowUpNote, Staff,
                      china_day, china_today)
from ..sop.tasks import has_due
from ..wecom import WeComError
from . import charts

TREND_DAYS = 90
NOTES_SHOWN = 20
NOTE_MAX = 1000

# The panel reads plain rows of the columns it shows, on the request's connection: loading ORM objects
# (and flushing one for the access log) cost more than every query of the panel together.
CONTACT_COLUMNS = [ExternalContact.__table__.c[name]
                   for name in ("external_userid", "name", "type", "corp_name", "position", "fetched_at")]
FOLLOW_COLUMNS = [Follow.__table__.c[name] for name in ("id", "userid", "external_userid", "remark", "description",
                                                         "added_at", "add_way", "remark_mobiles", "tags")]
PROFILE_COLUMNS = [column for column in ClientProfile.__table__.c if column.name != "mobile"]  # never shown
NOTE_COLUMNS = [FollowUpNote.__table__.c[name] for name in ("id", "external_userid", "author", "body", "created_at")]
ContactFacts = namedtuple("ContactFacts", [column.name for column in CONTACT_COLUMNS])
FollowFacts = namedtuple("FollowFacts", [column.name for column in FOLLOW_COLUMNS])
ProfileFacts = namedtuple("ProfileFacts", [column.name for column in PROFILE_COLUMNS])
Note = namedtuple("Note", [column.name for column in NOTE_COLUMNS])

# Built once (see domain.access.ACTIVE_FOLLOW).
# Each with the staff's names it needs (the advisors, the notes' authors): no statement of their own.
LATEST_NOTES = (select(*NOTE_COLUMNS, Staff.name).outerjoin(Staff, Staff.userid == FollowUpNote.author)
                .where(FollowUpNote.external_userid == bindparam("external_userid"))
                .order_by(FollowUpNote.created_at.desc(), FollowUpNote.id.desc()).limit(NOTES_SHOWN))
ACTIVE_FOLLOWS = (select(*FOLLOW_COLUMNS, *CONTACT_COLUMNS, Staff.name)
                  .join_from(Follow, ExternalContact, Follow.external_userid == ExternalContact.external_userid)
                  .outerjoin(Staff, Staff.userid == Follow.userid)
                  .where(Follow.external_userid == bindparam("external_userid"), Follow.ended_at.is_(None)))
PROFILE = (select(*PROFILE_COLUMNS).where(ClientProfile.external_userid == bindparam("external_userid"))
           .order_by(ClientProfile.updated_at.desc()).limit(1))  # as domain.facts.profile_of picks
ASSET_SERIES = (db.select(AssetSnapshot.day, AssetSnapshot.total_assets)
                .where(AssetSnapshot.account_id == bindparam("account_id"), AssetSnapshot.day > bindparam("since"))
                .order_by(AssetSnapshot.day))
LOG_VIEW = insert(ClientView.__table__)
# A kept panel's data versions, read only when the viewer follows the client (versions.current_where)
KEPT_STAMP = versions.read_where(ACTIVE_FOLLOW)


class NotAllowed(Exception):
    """The viewer may read this client but not change anything (a manager's read-only view)."""


class InvalidNote(Exception):
    """The note cannot be saved; the message is for the advisor."""


@dataclass
class Step:
    """One step of the account-opening journey."""

    key: str
    label: str
    day: date | None
    state: str  # done, current, todo


@dataclass
class ClientPanel:
    """Everything the client panel shows; personal numbers are already masked."""

    contact: ContactFacts
    follow: FollowFacts
    read_only: bool
    colleagues: list
    mobiles: list
    add_way: str
    tags: list  # the advisor's WeCom tags, without our own mirror of the profile
    profile: ProfileFacts | None
    account: str | None
    steps: list
    dormant: bool
    risk: Risk
    trend: charts.Trend | None
    mix: list
    notes: list = field(default_factory=list)
    authors: dict = field(default_factory=dict)
    shares: list = field(default_factory=list)  # materials sent to this client, with their opens
    source: object = None  # acquisition.attribution.Source: the channel that brought them (来源)
    sop_due: bool = False  # the advisor has 今日SOP tasks due in this chat: the panel loads them


def shown_panel(wecom, viewer, external_userid, render, keep=None):
    """render(panel) of the viewer's client panel, the view logged and committed before it is returned;
    NotVisible when the client is not theirs.

    keep(stamp, render_now), when given, may answer with a copy kept from an earlier render instead
    (memo.kept_response under panel_data's versions, read in one statement with the viewer's own
    follow of the client). Without that follow (a manager's view, a follow not stored yet) the panel
    is rendered. Every view is authorised and logged, kept or not.

    Logged after the render and before anything is sent: a view that cannot be logged is not shown,
    and the render's own read (下一步's materials) runs in the panel's transaction instead of taking
    another connection after the commit (on PostgreSQL, with its pre-ping).
    """
    def render_now():
        """The panel as the client's data is now."""
        return render(_client_panel(wecom, viewer, external_userid))

    stamp = None
    if keep is not None:
        stamp = versions.current_where(panel_data(external_userid), KEPT_STAMP, userid=viewer,
                                       external_userid=external_userid)
    response = render_now() if stamp is None else keep(stamp, render_now)
    _log_view(viewer, external_userid)
    return response


def panel_data(external_userid):
    """The data versions (versions.py) of what a client panel is computed from.

    The client's own rows (contact, follows, profile, notes, shares with their opens, arrivals) and
    SOP tasks; asset snapshots, staff and channel names, and the materials 下一步 offers.
    """
    return (*versions.part(versions.CLIENTS, external_userid), *versions.part(versions.SOP, external_userid),
            versions.ASSETS, versions.STAFF, versions.CHANNELS, versions.MATERIALS)


def _client_panel(wecom, viewer, external_userid, today=None):
    """The panel for viewer (not logged yet); NotVisible when not theirs."""
    today = today or china_today()
    follows, names = _active_follows(external_userid)  # the viewer's own authorises the usual open
    follow, read_only = next(((f, c) for f, c in follows if f.userid == viewer), None), False
    if follow is None:  # not stored yet, or a manager's view of a branch client: the slow way
        found, read_only = viewable_follow(wecom, viewer, external_userid)
        follows, names = _active_follows(external_userid)
        follow = next((f, c) for f, c in follows if f.userid == found.userid)
    follow, contact = follow
    others = [f for f, _ in follows if f.userid != follow.userid]
    profile = _profile(external_userid)
    notes, authors = _latest_notes(external_userid)
    names.update(authors)
    for colleague in {f.userid for f in others} - names.keys():  # never seen: ask WeCom once
        names[colleague] = _staff_name(wecom, colleague)
    series, shares = _series(profile, today), shares_for_contact(external_userid)
    sop_due = not read_only and has_due(viewer, "contact", external_userid)
    source = source_of(external_userid)
    return ClientPanel(
        contact=contact, follow=follow, read_only=read_only, sop_due=sop_due,
        colleagues=[names.get(f.userid, f.userid) for f in others],
        mobiles=[mask_mobile(m) for m in follow.remark_mobiles],
        add_way=ADD_WAYS.get(follow.add_way, "其他方式"),
        tags=[t for t in follow.tags if t.get("group_name") != PROFILE_GROUP],
        profile=profile, account=mask_account(profile.account_id) if profile else None,
        steps=journey(follow, profile), dormant=is_dormant(profile, today), risk=risk_of(profile, today),
        trend=charts.trend(series), mix=charts.mix_bar(profile.asset_mix if profile else None),
        notes=notes, authors=names, shares=shares, source=source)


def _log_view(viewer, external_userid):
    """Record the view (one insert at the end of the request's transaction) and commit before anything is shown.

    Boundary: the access log — no client's data is shown without its view on record.

    What the panel read stays as read: a commit expires every loaded ORM object by default (the slow
    way's follow), and the template would read it again.
    """
    session = db.session()
    session.connection().execute(LOG_VIEW, {"userid": viewer, "external_userid": external_userid})
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def add_note(wecom, author, external_userid, body):
    """Save a follow-up note by an advisor who follows the contact.

    Authorised before the body is looked at: whoever is refused learns nothing about the contact.
    """
    follow, read_only = viewable_follow(wecom, author, external_userid)
    if read_only:
        raise NotAllowed
    body = (body or "").strip()
    if not body:
        raise InvalidNote("请输入跟进内容")
    if len(body) > NOTE_MAX:
        raise InvalidNote(f"跟进内容最多 {NOTE_MAX} 字")
    note = FollowUpNote(external_userid=follow.external_userid, author=author, body=body)
    db.session.add(note)
    db.session.flush()
    return note


def notes_section(wecom, viewer, external_userid):
    """(notes, author names) of a contact the viewer may read, logged as a view; NotVisible when not theirs."""
    follow, _ = viewable_follow(wecom, viewer, external_userid)
    notes, authors = _latest_notes(follow.external_userid)
    _log_view(viewer, follow.external_userid)
    return notes, authors


def _latest_notes(external_userid):
    """(the newest notes on a contact by any advisor, author userid -> name for the authors we know);
    callers authorise first."""
    notes, names = [], {}
    for *columns, name in db.session.connection().execute(LATEST_NOTES, {"external_userid": external_userid}):
        notes.append(Note(*columns))
        if name is not None:
            names[notes[-1].author] = name
    return notes, names


def _profile(external_userid):
    """The contact's trading account as domain.facts.profile_of picks it, as plain facts; None when unmatched."""
    row = db.session.connection().execute(PROFILE, {"external_userid": external_userid}).first()
    return ProfileFacts(*row) if row else None


def journey(follow, profile):
    """The steps from 'added' to 'traded' in the order the client took them, with the dates we know.

    The stages keep their order; the add (its China day, like every date shown) goes after the
    stages dated before it: a client who opened an account before adding the advisor on WeCom
    reads 注册 … 已开户, then 添加.
    """
    reached = STAGES.index(profile.stage) if profile and profile.stage else -1
    dates = dict(profile.stage_dates or {}) if profile else {}
    stages = []
    for index, stage in enumerate(STAGES):
        state = "done" if index < reached else "current" if index == reached else "todo"
        known = dates.get(stage)
        stages.append(Step(stage, STAGE_LABELS[stage], date.fromisoformat(known) if known else None, state))
    added = Step("added", STAGE_LABELS["added"], china_day(follow.added_at), "done" if reached >= 0 else "current")
    earlier = [i + 1 for i, step in enumerate(stages) if added.day and step.day and step.day < added.day]
    at = max(earlier, default=0)
    return [*stages[:at], added, *stages[at:]]


def viewable_follow(wecom, viewer, external_userid):
    """(follow, read_only): the viewer's own follow, or a branch advisor's for a manager."""
    try:
        return find_follow(wecom, viewer, external_userid), False
    except NotVisible:
        if "manager" not in roles_of(viewer):
            raise
    follow = _branch_follow(wecom, viewer, external_userid)
    if follow is None:
        raise NotVisible
    return follow, True


def _active_follows(external_userid):
    """([(follow, contact)] of every advisor's current relation to the contact, advisor userid -> name for
    the advisors we know), in one query."""
    split, end = len(FOLLOW_COLUMNS), len(FOLLOW_COLUMNS) + len(CONTACT_COLUMNS)
    follows, names = [], {}
    for row in db.session.connection().execute(ACTIVE_FOLLOWS, {"external_userid": external_userid}):
        follow = FollowFacts(*row[:split])
        follows.append((follow, ContactFacts(*row[split:end])))
        if row[end] is not None:
            names[follow.userid] = row[end]
    return follows, names


def _branch_follow(wecom, manager, external_userid):
    """An active follow of the contact by an advisor of the manager's department tree (advisors_managed_by)."""
    follows = db.session.scalars(db.select(Follow).where(
        Follow.external_userid == external_userid, Follow.ended_at.is_(None))).all()
    return next((follow for follow in follows if same_branch(wecom, manager, follow.userid)), None)


def _staff_name(wecom, userid):
    """A colleague's name, fetched and stored the first time; their userid if WeCom cannot say."""
    try:
        return ensure_staff(wecom, userid).name  # a failed user/get is undone within ensure_staff
    except WeComError:
        return userid


def _series(profile, today):
    """(day, total assets) of the last 90 days, oldest first."""
    if profile is None:
        return []
    return db.session.connection().execute(ASSET_SERIES, {"account_id": profile.account_id,
                                                          "since": today - timedelta(days=TREND_DAYS)}).tuples().all()
