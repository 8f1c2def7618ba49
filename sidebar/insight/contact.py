"""Client insight (客户透视): who this contact is to the firm, and what to do next."""
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import bindparam
from sqlalchemy.orm import joinedload

from ..acquisition.attribution import source_of
from ..domain.access import NotVisible, find_follow, roles_of, same_branch, staff_names
from ..domain.directory import ensure_staff
from ..domain.facts import ADD_WAYS, PROFILE_GROUP, STAGE_LABELS, Risk, is_dormant, profile_of, risk_of
from ..extensions import db
from ..masking import mask_account, mask_mobile
from ..materials.tracking import shares_for_contact
from ..models import STAGES, AssetSnapshot, ClientProfile, ClientView, Follow, FollowUpNote, china_day, china_today
from ..wecom import WeComError
from . import charts

TREND_DAYS = 90
NOTES_SHOWN = 20
NOTE_MAX = 1000

# Built once (see domain.access.ACTIVE_FOLLOW).
LATEST_NOTES = (db.select(FollowUpNote).where(FollowUpNote.external_userid == bindparam("external_userid"))
                .order_by(FollowUpNote.created_at.desc(), FollowUpNote.id.desc()).limit(NOTES_SHOWN))
ACTIVE_FOLLOWS = db.select(Follow).options(joinedload(Follow.contact)).where(
    Follow.external_userid == bindparam("external_userid"), Follow.ended_at.is_(None))
ASSET_SERIES = (db.select(AssetSnapshot.day, AssetSnapshot.total_assets)
                .where(AssetSnapshot.account_id == bindparam("account_id"), AssetSnapshot.day > bindparam("since"))
                .order_by(AssetSnapshot.day))


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

    contact: object
    follow: Follow
    read_only: bool
    colleagues: list
    mobiles: list
    add_way: str
    tags: list  # the advisor's WeCom tags, without our own mirror of the profile
    profile: ClientProfile | None
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


def client_panel(wecom, viewer, external_userid, today=None):
    """The panel for viewer, logged as a view of the client; NotVisible when not theirs."""
    today = today or china_today()
    follows = _active_follows(external_userid)  # the viewer's own among them authorises the usual open
    follow, read_only = next((f for f in follows if f.userid == viewer), None), False
    if follow is None:  # not stored yet, or a manager's view of a branch client: the slow way
        follow, read_only = _viewable_follow(wecom, viewer, external_userid)
        follows = _active_follows(external_userid)
    others = [f for f in follows if f.userid != follow.userid]
    profile = profile_of(external_userid)
    notes = _latest_notes(external_userid)
    names = staff_names({f.userid for f in others} | {n.author for n in notes} | {follow.userid})
    for colleague in {f.userid for f in others} - names.keys():  # never seen: ask WeCom once
        names[colleague] = _staff_name(wecom, colleague)
    series, shares = _series(profile, today), shares_for_contact(external_userid)
    _log_view(viewer, external_userid)
    return ClientPanel(
        contact=follow.contact, follow=follow, read_only=read_only,
        colleagues=[names.get(f.userid, f.userid) for f in others],
        mobiles=[mask_mobile(m) for m in follow.remark_mobiles],
        add_way=ADD_WAYS.get(follow.add_way, "其他方式"),
        tags=[t for t in follow.tags if t.get("group_name") != PROFILE_GROUP],
        profile=profile, account=mask_account(profile.account_id) if profile else None,
        steps=journey(follow, profile), dormant=is_dormant(profile, today), risk=risk_of(profile, today),
        trend=charts.trend(series), mix=charts.mix_bar(profile.asset_mix if profile else None),
        notes=notes, authors=names, shares=shares, source=source_of(external_userid))


def _log_view(viewer, external_userid):
    """Record the view before anything is shown; what the panel read stays as read.

    A commit expires every loaded object by default, and the template would then read the follow,
    the contact, the profile and each note again, one statement each.
    """
    session = db.session()
    session.add(ClientView(userid=viewer, external_userid=external_userid))
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def add_note(wecom, author, external_userid, body):
    """Save a follow-up note by an advisor who follows the contact.

    Authorised before the body is looked at: whoever is refused learns nothing about the contact.
    """
    follow, read_only = _viewable_follow(wecom, author, external_userid)
    if read_only:
        raise NotAllowed
    body = (body or "").strip()
    if not body:
        raise InvalidNote("请输入跟进内容")
    if len(body) > NOTE_MAX:
        raise InvalidNote(f"跟进内容最多 {NOTE_MAX} 字")
    note = FollowUpNote(external_userid=follow.external_userid, author=author, body=body)
    db.session.add(note)
    db.session.commit()
    return note


def notes_section(wecom, viewer, external_userid):
    """(notes, author names) of a contact the viewer may read, logged as a view; NotVisible when not theirs."""
    follow, _ = _viewable_follow(wecom, viewer, external_userid)
    notes = _latest_notes(follow.external_userid)
    authors = staff_names({n.author for n in notes})
    _log_view(viewer, follow.external_userid)
    return notes, authors


def _latest_notes(external_userid):
    """The newest notes on a contact, by any advisor (callers authorise first)."""
    return db.session.scalars(LATEST_NOTES, {"external_userid": external_userid}).all()


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


def _viewable_follow(wecom, viewer, external_userid):
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
    """Every advisor's current relation to the contact, with the contact, in one query."""
    return db.session.scalars(ACTIVE_FOLLOWS, {"external_userid": external_userid}).unique().all()


def _branch_follow(wecom, manager, external_userid):
    """An active follow of the contact by an advisor of the manager's department tree (advisors_managed_by)."""
    follows = db.session.scalars(db.select(Follow).where(
        Follow.external_userid == external_userid, Follow.ended_at.is_(None))).all()
    return next((follow for follow in follows if same_branch(wecom, manager, follow.userid)), None)


def _staff_name(wecom, userid):
    """A colleague's name, fetched and stored the first time; their userid if WeCom cannot say."""
    try:
        return ensure_staff(wecom, userid).name
    except WeComError:
        db.session.rollback()
        return userid


def _series(profile, today):
    """(day, total assets) of the last 90 days, oldest first."""
    if profile is None:
        return []
    return db.session.execute(ASSET_SERIES, {"account_id": profile.account_id,
                                             "since": today - timedelta(days=TREND_DAYS)}).tuples().all()
