"""Corp tags: the local mirror of WeCom's tag list, and profile tags pushed back onto follow relations.

The push (the closed loop) puts each linked client's profile tags, journey stage and risk class into
the corp tag group 客户画像 and onto every active follow of that contact, sending only differences.
WeCom makes no callback for changes made through the API, so Follow.tags is updated here directly.
Local state decides what differs, so a run with nothing to change makes no call at all.
"""
from dataclasses import dataclass, field

from sqlalchemy import Text, cast, delete, select

from ..domain.facts import PROFILE_GROUP, STAGE_LABELS, risk_of
from ..extensions import db
from ..models import ClientProfile, CorpTag, Follow, SyncRun, china_today, utcnow
from ..wecom import WeComError
from .pacing import Pacer, is_rate_limited

CHUNK = 500  # follows read per query
CREATE_CHUNK = 100  # tag names per add_corp_tag call
INVALID_TAG = 40068
DUPLICATE_TAG = 40071
MAX_ERRORS_KEPT = 20


# -- the corp tag mirror ---------------------------------------------------------------------------

def refresh_corp_tags(wecom):
    """Mirror get_corp_tag_list into CorpTag; renamed or deleted tags are fixed on local follows too.

    Boundary: committed at once — the sync and the tag push go on calling WeCom, and no write transaction may
    be held across a call to WeCom (its token cache writes on a connection of its own, which SQLite would lock).
    """
    groups = wecom.get_corp_tag_list()
    fresh = {tag["id"]: {"tag_id": tag["id"], "name": tag["name"], "group_id": group["group_id"],
                         "group_name": group["group_name"], "sort_order": tag.get("order", 0),
                         "group_order": group.get("order", 0)}
             for group in groups for tag in group.get("tag", [])}
    stored = {row.tag_id: row for row in db.session.scalars(select(CorpTag))}
    changed = {tag_id for tag_id, row in stored.items() if tag_id in fresh and
               (row.name, row.group_name) != (fresh[tag_id]["name"], fresh[tag_id]["group_name"])}
    removed = set(stored) - set(fresh)
    _save_corp_tags(fresh, stored, removed)
    _fix_follow_tags(changed | removed, fresh)
    db.session.commit()
    return changed, removed


def _save_corp_tags(fresh, stored, removed):
    """Upsert the fresh tags and drop the ones WeCom no longer has."""
    now = utcnow()
    for tag_id, values in fresh.items():
        row = stored.get(tag_id)
        if row is None:
            db.session.add(CorpTag(**values, fetched_at=now))
            continue
        if any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            row.fetched_at = now  # moves only on a change: a sync that finds nothing new writes nothing
    if removed:
        db.session.execute(delete(CorpTag).where(CorpTag.tag_id.in_(removed)))


def _fix_follow_tags(tag_ids, fresh):
    """Rename or remove these corp tags in every local follow that carries them."""
    for tag_id in tag_ids:
        carriers = db.session.scalars(select(Follow).where(
            cast(Follow.tags, Text).contains(tag_id, autoescape=True))).all()
        for follow in carriers:
            follow.tags = [_renamed(tag, fresh) for tag in follow.tags
                           if tag.get("tag_id") != tag_id or tag_id in fresh]


def _renamed(tag, fresh):
    """A follow's tag entry with the names WeCom has now."""
    now = fresh.get(tag.get("tag_id")) if tag.get("type") == 1 else None
    return {**tag, "tag_name": now["name"], "group_name": now["group_name"]} if now else tag


# -- profile tags ----------------------------------------------------------------------------------

def profile_tag_names(profile, today=None):
    """The corp tag names a client profile should carry: its tags, 阶段:…, and 风险:… while assessed."""
    if profile is None:
        return set()
    names = {tag for tag in profile.tags or [] if tag}
    if profile.stage in STAGE_LABELS:
        names.add(f"阶段:{STAGE_LABELS[profile.stage]}")
    risk = risk_of(profile, today or china_today())
    if risk.status == "valid":
        names.add(f"风险:{risk.level}")
    elif risk.status == "expired":
        names.add("风险:已过期")  # an expired class must not keep selecting the client for that class
    return names


@dataclass
class PushResult:
    """What a push did: follows looked at, relations marked, tags created, and failures."""

    checked: int = 0
    marked: int = 0
    created: int = 0
    failed: int = 0
    errors: list = field(default_factory=list)


class ProfileTagGroup:
    """Tag name -> id in the 客户画像 group, read from WeCom only when a push needs ids, created on demand."""

    def __init__(self, wecom, pacer):
        self.wecom = wecom
        self.pacer = pacer
        self.ids = None
        self.group_id = ""
        self.created = 0

    def load(self):
        """Refresh the corp tag mirror and read the group's tags from it."""
        self.pacer.call(refresh_corp_tags, self.wecom)
        rows = db.session.scalars(select(CorpTag).where(CorpTag.group_name == PROFILE_GROUP)).all()
        self.ids = {row.name: row.tag_id for row in rows}
        self.group_id = rows[0].group_id if rows else ""

    def ids_for(self, names):
        """name -> tag id for these names, creating the missing tags in the group."""
        if self.ids is None:
            self.load()
        missing = sorted(set(names) - set(self.ids))
        for start in range(0, len(missing), CREATE_CHUNK):
            self._create(missing[start:start + CREATE_CHUNK])
        return {name: self.ids[name] for name in names}

    def _create(self, names, retried=False):
        """add_corp_tag for names; someone else creating one meanwhile is resolved by reloading once.

        Boundary: the tags WeCom made are committed at once, so that they are never created twice.
        """
        try:
            group = self.pacer.call(self.wecom.add_corp_tags, names, group_name=PROFILE_GROUP,
                                    group_id=self.group_id)
        except WeComError as error:
            if error.errcode != DUPLICATE_TAG or retried:
                raise
            self.load()
            missing = [name for name in names if name not in self.ids]
            if missing:
                self._create(missing, retried=True)
            return
        self.group_id = group["group_id"]
        now = utcnow()
        for tag in group.get("tag", []):
            self.ids[tag["name"]] = tag["id"]
            db.session.merge(CorpTag(tag_id=tag["id"], name=tag["name"], group_id=group["group_id"],
                                     group_name=group.get("group_name") or PROFILE_GROUP,
                                     sort_order=tag.get("order", 0), group_order=group.get("order", 0),
                                     fetched_at=now))
            self.created += 1
        db.session.commit()


def push_tags(wecom, external_userids=None, pace=None, progress=None, today=None):
    """Mirror profile tags onto follows; the whole run (no ids) resumes from the cursor of an unfinished one.

    Boundary: the cursor is committed after each chunk, so an interrupted run resumes where it stopped.
    """
    pacer = Pacer(wecom, **({} if pace is None else {"pace": pace}))
    group, result = ProfileTagGroup(wecom, pacer), PushResult()
    today = today or china_today()
    if external_userids is not None:
        ids = sorted(set(external_userids))
        for start in range(0, len(ids), CHUNK):
            _push_follows(_active_follows(ids=ids[start:start + CHUNK]), group, pacer, result, today, progress)
        result.created = group.created
        return result
    run = _open_run()
    after = run.cursor.get("after", 0)
    while follows := _active_follows(after=after):
        _push_follows(follows, group, pacer, result, today, progress)
        after = follows[-1].id
        run.cursor = {"after": after}
        db.session.commit()
    result.created = group.created
    _close_run(run, result)
    return result


def push_imported(wecom, account_ids, pace=None):
    """The push for the contacts linked to the accounts an import stored (run after it)."""
    contacts = set()
    ids = sorted(account_ids)
    for start in range(0, len(ids), CHUNK):
        contacts |= set(db.session.scalars(select(ClientProfile.external_userid).where(
            ClientProfile.account_id.in_(ids[start:start + CHUNK]), ClientProfile.external_userid.is_not(None))))
    return push_tags(wecom, external_userids=contacts, pace=pace)


def pending_count(external_userids=None):
    """How many active follows a push would look at (for a progress bar)."""
    query = select(db.func.count()).select_from(Follow).where(Follow.ended_at.is_(None))
    if external_userids is None:
        run = _unfinished_run()
        query = query.where(Follow.id > (run.cursor.get("after", 0) if run else 0))
    else:
        query = query.where(Follow.external_userid.in_(set(external_userids)))
    return db.session.scalar(query)


def _active_follows(after=0, ids=None):
    """The next chunk of active follows by id, or the active follows of some contacts."""
    query = select(Follow).where(Follow.ended_at.is_(None))
    if ids is not None:
        return db.session.scalars(query.where(Follow.external_userid.in_(ids)).order_by(Follow.id)).all()
    return db.session.scalars(query.where(Follow.id > after).order_by(Follow.id).limit(CHUNK)).all()


def _push_follows(follows, group, pacer, result, today, progress):
    """Send each follow's differences; one follow's failure (other than a rate limit) does not stop the run."""
    profiles = _profiles_of({f.external_userid for f in follows})
    wanted = {f.id: profile_tag_names(profiles.get(f.external_userid), today) for f in follows}
    differing = [f for f in follows if _profile_tags(f).keys() != wanted[f.id]]
    if differing:  # create every missing tag of this chunk in one add_corp_tag
        group.ids_for(set().union(*(wanted[f.id] for f in differing)))
    for follow in follows:
        result.checked += 1
        try:
            if _push_follow(follow, wanted[follow.id], group, pacer):
                result.marked += 1
        except WeComError as error:
            if is_rate_limited(error):
                raise
            result.failed += 1
            if len(result.errors) < MAX_ERRORS_KEPT:
                result.errors.append(f"{follow.userid}/{follow.external_userid}: {error}")
        if progress:
            progress(1)


def _push_follow(follow, wanted, group, pacer, retried=False):
    """mark_tag the difference between wanted and the follow's 客户画像 tags; True when a call was made.

    Boundary: committed per relation, right after WeCom took it: after a crash, nothing is sent twice.
    """
    current = _profile_tags(follow)
    if set(current) == wanted:
        return False
    ids = group.ids_for(wanted - set(current))
    add, remove = [ids[name] for name in sorted(ids)], [current[name] for name in sorted(set(current) - wanted)]
    try:
        pacer.call(group.wecom.mark_tag, follow.userid, follow.external_userid, add=add, remove=remove)
    except WeComError as error:
        if error.errcode != INVALID_TAG or retried:
            raise
        group.load()  # a tag was deleted in WeCom meanwhile: the refresh drops it from local follows
        return _push_follow(follow, wanted, group, pacer, retried=True)
    kept = [tag for tag in follow.tags if tag.get("tag_id") not in set(remove)]
    follow.tags = kept + [{"tag_id": ids[name], "group_name": PROFILE_GROUP, "tag_name": name, "type": 1}
                          for name in sorted(ids)]
    db.session.commit()  # per relation: after a crash, the next run re-sends nothing already done
    return True


def _profile_tags(follow):
    """name -> tag id of the follow's tags in the 客户画像 group, as we last stored them."""
    return {tag["tag_name"]: tag.get("tag_id") for tag in follow.tags
            if tag.get("type") == 1 and tag.get("group_name") == PROFILE_GROUP}


def _profiles_of(external_userids):
    """external_userid -> its most recently updated linked profile (the one the client panel shows)."""
    rows = db.session.scalars(select(ClientProfile).where(ClientProfile.external_userid.in_(external_userids))
                              .order_by(ClientProfile.updated_at))
    return {row.external_userid: row for row in rows}  # later rows win


def _unfinished_run():
    """The push run a crash or an error left unfinished, if any."""
    return db.session.scalar(select(SyncRun).where(SyncRun.kind == "push-tags", SyncRun.finished_at.is_(None))
                             .order_by(SyncRun.id.desc()).limit(1))


def _open_run():
    """Resume the unfinished push run, or start one.

    Boundary: a new run is committed at once, so that a crash leaves it for the next run to resume.
    """
    run = _unfinished_run()
    if run is None:
        run = SyncRun(kind="push-tags", phase="follows", cursor={"after": 0}, stats={})
        db.session.add(run)
        db.session.commit()
    return run


def _close_run(run, result):
    """Record the run's outcome and mark it finished.

    Boundary: the end of a resumable run, committed like its cursor.
    """
    run.stats = {"checked": result.checked, "marked": result.marked, "created": result.created,
                 "failed": result.failed}
    run.phase = "done"
    run.finished_at = utcnow()
    db.session.commit()
