"""Full sync: staff, contacts and groups from WeCom; the safety net under lost callbacks.

A run goes through phases (staff, contacts, group list, groups, finish) and keeps its cursor in
sync_run after every page, so a crash or a stop resumes where it was. What WeCom lists is recorded
in sync_seen; at the end, local relations and groups it did not list are re-fetched one by one and
ended only when WeCom confirms they are gone (a paging race must not cost an advisor a client).
Only real differences are written: a second run over an unchanged WeCom writes nothing.
"""
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, or_, select

from ..domain.directory import (assign, contact_values, end_follows, follow_values, has_changes,
                                mobiles_of, staff_values, store_contact, store_mobiles)
from ..domain.linking import link_profiles
from ..extensions import db
from ..materials import qualified
from ..models import (ClientProfile, ContactMobile, CorpTag, ExternalContact, Follow, GroupChat, Staff, SyncRun, SyncSeen,
                      china_today, utcnow)
from ..wecom import WeComError, errors
from .departments import refresh_departments
from .events import refresh_group
from .pacing import Pacer
from .tags import refresh_corp_tags

PAGE = 100  # batch/get_by_user's maximum
GROUP_PAGE = 1000  # groupchat/list's maximum
PHASES = ("staff", "contacts", "group-list", "groups", "finish", "done")


class SyncFailed(Exception):
    """The run stopped on an error it cannot wait out; its cursor is kept for the next start."""


@dataclass
class Progress:
    """Hooks a caller (the CLI's progress bars) gets: a phase starts with a total, then advances."""

    start: object = lambda phase, total: None
    advance: object = lambda count: None
    backoff: object = lambda seconds: None


@dataclass
class SyncResult:
    """What a run changed; all zero when WeCom and the local copy already agreed."""

    run_id: int = 0
    resumed: bool = False
    counts: dict = field(default_factory=lambda: defaultdict(int))

    def changed(self):
        """Total rows added, changed or ended."""
        return sum(value for key, value in self.counts.items() if key != "staff_seen")


def sync(wecom, since=None, pace=None, progress=None, restart=False):
    """Run (or resume) a full sync; returns a SyncResult, raises SyncFailed with the cursor kept.

    Boundary: the sync commits page by page with its cursor (so it resumes where it stopped); a WeCom
    failure rolls back only the unfinished page and records why the run stopped.
    """
    progress = progress or Progress()
    pacer = Pacer(wecom, on_backoff=progress.backoff, **({} if pace is None else {"pace": pace}))
    run, resumed = _open_run(since, restart)
    result = SyncResult(run_id=run.id, resumed=resumed)
    result.counts.update(run.stats or {})
    steps = {"staff": _sync_staff, "contacts": _sync_contacts, "group-list": _list_groups,
             "groups": _sync_groups, "finish": _finish}
    try:
        while run.phase != "done":
            steps[run.phase](wecom, pacer, run, result, progress)
            _advance(run, result)
    except WeComError as error:
        db.session.rollback()
        _record_error(run.id, str(error))
        raise SyncFailed(f"{run.phase}: {error}") from None
    return result


# -- runs ------------------------------------------------------------------------------------------

def unfinished_run():
    """The sync run a crash or an error left unfinished, if any."""
    return db.session.scalar(select(SyncRun).where(SyncRun.kind == "sync", SyncRun.finished_at.is_(None))
                             .order_by(SyncRun.id.desc()).limit(1))


def _open_run(since, restart):
    """(run, resumed): the unfinished run to resume, or a new one (restart abandons the old).

    Boundary: a new run is committed at once, so a crash leaves it to resume.
    """
    run = unfinished_run()
    if run is not None and restart:
        run.finished_at, run.error = utcnow(), (run.error or "") + " abandoned by --restart"
        db.session.execute(delete(SyncSeen).where(SyncSeen.run_id == run.id))
        run = None
    if run is not None:
        return run, True
    run = SyncRun(kind="sync", phase="staff", since=since, cursor={}, stats={})
    db.session.add(run)
    db.session.commit()
    return run, False


def _advance(run, result):
    """Move the run to its next phase and save; the seen list of a finished run is dropped.

    Boundary: a phase's end is committed, like a page (see _save_cursor).
    """
    run.phase = PHASES[PHASES.index(run.phase) + 1]
    run.cursor = {"users": run.cursor.get("users", [])} if run.phase != "done" else {}
    run.stats = dict(result.counts)
    if run.phase == "done":
        run.finished_at, run.error = utcnow(), None
        db.session.execute(delete(SyncSeen).where(SyncSeen.run_id == run.id))
    db.session.commit()


def _save_cursor(run, result, **cursor):
    """Keep where the run is, together with what it has done so far; commits the page with it.

    Boundary: a page and its cursor are committed together, so a resumed run neither skips nor repeats one.
    """
    run.cursor = {**run.cursor, **cursor}
    run.stats = dict(result.counts)
    db.session.commit()


def _record_error(run_id, message):
    """Note why a run stopped (in its own transaction: the failed one was rolled back).

    Boundary: the reason is kept though the run failed.
    """
    run = db.session.get(SyncRun, run_id)
    run.error = message[:1000]
    db.session.commit()


def _seen(run, kind, keys):
    """Record keys WeCom listed in this run, once each (a page read twice must not fail)."""
    keys = {str(key) for key in keys}
    if not keys:
        return
    known = set(db.session.scalars(select(SyncSeen.key).where(
        SyncSeen.run_id == run.id, SyncSeen.kind == kind, SyncSeen.key.in_(keys))))
    if keys - known:
        db.session.execute(insert(SyncSeen), [{"run_id": run.id, "kind": kind, "key": key}
                                              for key in sorted(keys - known)])


# -- staff -----------------------------------------------------------------------------------------

def _sync_staff(wecom, pacer, run, result, progress):
    """The department tree, then the members with customer contact, each refreshed from user/get.

    Boundary: each member is committed as fetched, so no write transaction is held across the next call.
    """
    result.counts["departments_changed"] += sum(refresh_departments(wecom, pacer))
    users = pacer.call(wecom.get_follow_user_list)
    progress.start("staff", len(users))
    for userid in users:
        data = pacer.call(wecom.get_user, userid)
        staff = db.session.get(Staff, userid)
        if staff is None:
            staff = Staff(userid=userid)
            db.session.add(staff)
            result.counts["staff_added"] += 1
        assign(staff, staff_values(userid, data))
        if has_changes():
            staff.fetched_at = utcnow()
            result.counts["staff_changed"] += 0 if staff in db.session.new else 1
        db.session.commit()
        progress.advance(1)
    run.cursor = {"users": users, "user": 0, "page": ""}
    result.counts["staff_seen"] = len(users)


# -- contacts --------------------------------------------------------------------------------------

def _sync_contacts(wecom, pacer, run, result, progress):
    """Every member's contacts in bulk, page by page, each page committed with the cursor."""
    users = run.cursor.get("users", [])
    index, page = run.cursor.get("user", 0), run.cursor.get("page", "")
    progress.start("contacts", len(users))
    progress.advance(index)
    tags = _TagNames(wecom, pacer)
    while index < len(users):
        items, next_page = pacer.call(wecom.batch_get_by_user, [users[index]], cursor=page, limit=PAGE)
        _store_contact_page(run, items, tags, result)
        page = next_page or ""
        if not page:
            index += 1
            progress.advance(1)
        _save_cursor(run, result, user=index, page=page)


class _TagNames:
    """Corp tag id -> (group name, tag name), from the local mirror refreshed at most once per run."""

    def __init__(self, wecom, pacer):
        self.wecom, self.pacer = wecom, pacer
        self.names, self.refreshed = None, False

    def entries(self, tag_ids):
        """Our tag entries for follow_info's tag ids (unknown ids trigger one refresh of the mirror)."""
        if self.names is None or (not self.refreshed and set(tag_ids) - set(self.names)):
            if not self.refreshed:
                self.pacer.call(refresh_corp_tags, self.wecom)
                self.refreshed = True
            self.names = {row.tag_id: (row.group_name, row.name) for row in db.session.scalars(select(CorpTag))}
        return [{"tag_id": tag_id, "group_name": self.names[tag_id][0], "tag_name": self.names[tag_id][1],
                 "type": 1} for tag_id in tag_ids if tag_id in self.names]


def _store_contact_page(run, items, tags, result):
    """Upsert one page of {external_contact, follow_info}; mobiles and profile links follow."""
    ids = {item["external_contact"]["external_userid"] for item in items}
    contacts = {c.external_userid: c for c in db.session.scalars(
        select(ExternalContact).where(ExternalContact.external_userid.in_(ids)))}
    follows = {(f.userid, f.external_userid): f for f in db.session.scalars(
        select(Follow).where(Follow.external_userid.in_(ids)))}
    relinks = set()
    with db.session.no_autoflush:
        for item in items:
            contact = _upsert_contact(contacts, item["external_contact"], result, relinks)
            _upsert_follow(follows, contact.external_userid, item["follow_info"], tags, result)
    db.session.flush()
    _seen(run, "follow", [follows[(i["follow_info"]["userid"], i["external_contact"]["external_userid"])].id
                          for i in items])
    relinks |= _store_page_mobiles(ids, follows)
    _link_page([contacts[ext] for ext in sorted(relinks)])


def _link_page(contacts):
    """link_profiles for the contacts some profile could name (one query rules out the rest)."""
    if not contacts:
        return
    mobiles = defaultdict(set)
    for row in db.session.execute(select(ContactMobile.mobile, ContactMobile.external_userid).where(
            ContactMobile.external_userid.in_([c.external_userid for c in contacts]))):
        mobiles[row.external_userid].add(row.mobile)
    unionids = {c.unionid for c in contacts if c.unionid}
    all_mobiles = set().union(*mobiles.values())
    named = db.session.execute(select(ClientProfile.unionid, ClientProfile.mobile).where(or_(
        ClientProfile.unionid.in_(unionids), ClientProfile.mobile.in_(all_mobiles)))).all()
    named_unionids, named_mobiles = {row.unionid for row in named}, {row.mobile for row in named}
    for contact in contacts:
        if contact.unionid in named_unionids or mobiles[contact.external_userid] & named_mobiles:
            link_profiles(contact)


def _upsert_contact(contacts, data, result, relinks):
    """The contact row for this page's item, added or updated (fetched_at moves only on a change)."""
    contact = contacts.get(data["external_userid"])
    if contact is None:
        contact = ExternalContact(external_userid=data["external_userid"], **contact_values(data),
                                  fetched_at=utcnow())
        db.session.add(contact)
        contacts[contact.external_userid] = contact
        result.counts["contacts_added"] += 1
        relinks.add(contact.external_userid)
    elif contact not in db.session.new:
        unionid = contact.unionid
        assign(contact, contact_values(data))
        if db.session.is_modified(contact):
            contact.fetched_at = utcnow()
            result.counts["contacts_changed"] += 1
            if contact.unionid != unionid:
                relinks.add(contact.external_userid)
    return contact


def _upsert_follow(follows, external_userid, info, tags, result):
    """The follow of this item, added, changed or re-activated; personal tags (not in bulk answers) are kept."""
    follow = follows.get((info["userid"], external_userid))
    personal = [t for t in (follow.tags if follow else []) if t.get("type") == 2]
    values = follow_values(info, tags.entries(info.get("tag_id") or []) + personal)
    if follow is None:
        follow = Follow(userid=info["userid"], external_userid=external_userid, **values)
        db.session.add(follow)
        follows[(follow.userid, external_userid)] = follow
        result.counts["follows_added"] += 1
        return
    was_ended = follow.ended_at is not None
    assign(follow, values)
    if db.session.is_modified(follow):
        result.counts["follows_restored" if was_ended else "follows_changed"] += 1


def _store_page_mobiles(ids, follows):
    """Keep each contact's noted mobiles equal to those of its active follows; returns contacts that changed."""
    wanted = {external_userid: set() for external_userid in ids}
    for (_, external_userid), follow in follows.items():
        if follow.ended_at is None:
            wanted[external_userid] |= mobiles_of(follow.remark_mobiles)
    return store_mobiles(wanted)


# -- groups ----------------------------------------------------------------------------------------

def _list_groups(wecom, pacer, run, result, progress):
    """Every customer group's chat id, page by page, recorded as seen."""
    page = run.cursor.get("list", "")
    progress.start("group-list", 0)
    while True:
        chats, page = pacer.call(wecom.list_group_chats, cursor=page, limit=GROUP_PAGE)
        _seen(run, "group", [chat["chat_id"] for chat in chats])
        _save_cursor(run, result, list=page or "")
        if not page:
            return


def _sync_groups(wecom, pacer, run, result, progress):
    """groupchat/get for each listed group (skipping those fetched since --since), in chat id order."""
    after = run.cursor.get("after", "")
    chat_ids = db.session.scalars(select(SyncSeen.key).where(
        SyncSeen.run_id == run.id, SyncSeen.kind == "group").order_by(SyncSeen.key)).all()
    progress.start("groups", len(chat_ids))
    progress.advance(sum(1 for chat_id in chat_ids if chat_id <= after))
    for chat_id in [c for c in chat_ids if c > after]:
        if not _fresh_enough(chat_id, run.since):
            _refresh_group(wecom, pacer, chat_id, result)
        _save_cursor(run, result, after=chat_id)
        progress.advance(1)


def _fresh_enough(chat_id, since):
    """With --since, a group fetched (by a callback or a sync) after that time is not fetched again."""
    if since is None:
        return False
    group = db.session.get(GroupChat, chat_id)
    return group is not None and group.dismissed_at is None and group.fetched_at >= since


def _refresh_group(wecom, pacer, chat_id, result):
    """Fetch (paced) and store one group, counting what changed; a join whose callback was missed is
    attributed here by the member's `state`."""
    known = db.session.get(GroupChat, chat_id) is not None
    fresh = refresh_group(wecom, chat_id, fetch=lambda chat: pacer.call(wecom.get_group_chat, chat), touch=False)
    if fresh.group is None:
        result.counts["groups_dismissed"] += fresh.dismissed
        return
    if fresh.group.group_changed:
        result.counts["groups_changed" if known else "groups_added"] += 1
        qualified.recheck(chat_id, china_today())  # a join the callbacks missed lifts a mark as well
    result.counts["arrivals_added"] += fresh.arrivals


# -- finish: what WeCom did not list ---------------------------------------------------------------

def _finish(wecom, pacer, run, result, progress):
    """Re-fetch each contact and group WeCom did not list; end what it confirms is gone."""
    contacts = _unseen_contacts(run)
    groups = _unseen_groups(run)
    progress.start("finish", len(contacts) + len(groups))
    for external_userid in contacts:
        _recheck_contact(wecom, pacer, external_userid, result)
        progress.advance(1)
    for chat_id in groups:
        _refresh_group(wecom, pacer, chat_id, result)
        progress.advance(1)


def _unseen_contacts(run):
    """Contacts with an active follow this run did not see."""
    seen = select(SyncSeen.key).where(SyncSeen.run_id == run.id, SyncSeen.kind == "follow")
    active = db.session.execute(select(Follow.id, Follow.external_userid).where(Follow.ended_at.is_(None))).all()
    seen_ids = {int(key) for key in db.session.scalars(seen)}
    return sorted({row.external_userid for row in active if row.id not in seen_ids})


def _unseen_groups(run):
    """Live local groups this run did not see listed."""
    listed = select(SyncSeen.key).where(SyncSeen.run_id == run.id, SyncSeen.kind == "group")
    return db.session.scalars(select(GroupChat.chat_id).where(
        GroupChat.dismissed_at.is_(None), GroupChat.chat_id.not_in(listed)).order_by(GroupChat.chat_id)).all()


def _recheck_contact(wecom, pacer, external_userid, result):
    """Ask WeCom about one contact and store the answer; 'no relation' ends every follow of it."""
    before = _active_followers(external_userid)
    try:
        store_contact(pacer.call(wecom.get_external_contact, external_userid))  # an error: nothing written
    except WeComError as error:
        if error.errcode not in errors.CONTACT_GONE:
            raise
        end_follows(external_userid)
    result.counts["follows_ended"] += len(before - _active_followers(external_userid))


def _active_followers(external_userid):
    """Userids with an active follow of the contact."""
    return set(db.session.scalars(select(Follow.userid).where(
        Follow.external_userid == external_userid, Follow.ended_at.is_(None))))
