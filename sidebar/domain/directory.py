"""The local copy of WeCom's directory: contacts, groups and staff written from WeCom's answers (upserts,
relations ended rather than deleted). The one home of storing them, for the panels and the sync alike."""
from sqlalchemy import delete, insert

from ..database import upsert_retrying
from ..extensions import db
from ..models import ContactMobile, ExternalContact, Follow, GroupChat, GroupMember, Staff, from_epoch, utcnow
from .linking import link_profiles, normalise_mobile


def store_contact(payload):
    """Upsert a contact, its follows and noted mobiles from an externalcontact/get answer; link its profiles.

    Two advisors opening a new client at once both insert it: the later one updates instead.
    Boundary: committed at once, as the panels and the sync go on to call WeCom, and no write transaction may
    be held across a call to WeCom (its token cache writes on a connection of its own, which SQLite would lock).
    """
    written = upsert_retrying(_write_contact, payload)
    db.session.commit()
    return written


def _write_contact(payload):
    """store_contact's writes, uncommitted."""
    data = payload["external_contact"]
    contact = db.session.get(ExternalContact, data["external_userid"])
    if contact is None:
        contact = ExternalContact(external_userid=data["external_userid"])
        db.session.add(contact)
    assign(contact, contact_values(data))
    contact.fetched_at = utcnow()
    _store_follows(contact, payload.get("follow_user", []))
    store_mobiles({contact.external_userid: set().union(*(mobiles_of(item.get("remark_mobiles"))
                                                          for item in payload.get("follow_user", [])))})
    link_profiles(contact)
    return contact


def _store_follows(contact, follow_users):
    """Upsert each follow; end the ones WeCom no longer lists."""
    existing = {f.userid: f for f in db.session.scalars(
        db.select(Follow).where(Follow.external_userid == contact.external_userid))}
    for item in follow_users:
        follow = existing.pop(item["userid"], None)
        if follow is None:
            follow = Follow(userid=item["userid"], external_userid=contact.external_userid)
            db.session.add(follow)
        tags = [{"tag_id": t.get("tag_id"), "group_name": t.get("group_name"),
                 "tag_name": t.get("tag_name"), "type": t.get("type")} for t in item.get("tags", [])]
        assign(follow, follow_values(item, tags))
    for follow in existing.values():
        if follow.ended_at is None:
            follow.ended_at = utcnow()


def contact_values(data):
    """ExternalContact columns from an `external_contact` object (externalcontact/get or batch/get_by_user)."""
    return {"name": data.get("name") or "", "type": data.get("type", 1), "gender": data.get("gender", 0),
            "unionid": data.get("unionid") or None, "corp_name": data.get("corp_name") or None,
            "position": data.get("position") or None}


def follow_values(item, tags):
    """Follow columns from a follow_user/follow_info entry, with its tags already in our shape; active."""
    return {"remark": item.get("remark") or None, "description": item.get("description") or None,
            "added_at": from_epoch(item.get("createtime")), "add_way": item.get("add_way"),
            "state": item.get("state") or None, "remark_mobiles": list(item.get("remark_mobiles") or []),
            "tags": tags, "ended_at": None}


def assign(row, values):
    """Set attributes; the ORM writes only those whose value really changed."""
    for name, value in values.items():
        setattr(row, name, value)


def mobiles_of(remark_mobiles):
    """The normalised mobiles among remark mobiles as WeCom gives them (blanks and junk dropped)."""
    return {mobile for raw in remark_mobiles or [] if (mobile := normalise_mobile(raw))}


def store_mobiles(wanted):
    """Keep each contact's noted mobiles ({external_userid: mobiles of its current follows}) as given:
    how profiles find it. Returns the contacts whose mobiles changed."""
    stored = {external_userid: set() for external_userid in wanted}
    for mobile, external_userid in db.session.execute(db.select(ContactMobile.mobile, ContactMobile.external_userid)
                                                      .where(ContactMobile.external_userid.in_(list(wanted)))):
        stored[external_userid].add(mobile)
    gone = [(ext, mobile) for ext in wanted for mobile in stored[ext] - wanted[ext]]
    new = [{"mobile": mobile, "external_userid": ext} for ext in sorted(wanted) for mobile in sorted(wanted[ext] - stored[ext])]
    for ext, mobile in gone:
        db.session.execute(delete(ContactMobile).where(ContactMobile.external_userid == ext, ContactMobile.mobile == mobile))
    if new:
        db.session.execute(insert(ContactMobile), new)
    return {ext for ext, _ in gone} | {row["external_userid"] for row in new}


def store_group(data, touch=True):
    """Upsert a group and its members from a groupchat/get answer; leavers keep their row.

    With touch=False (the full sync) fetched_at moves only when something changed, so a run that
    finds nothing new writes nothing. Returns the group; `group_changed` tells whether it changed.
    Boundary: committed at once, as store_contact is, before the caller's next call to WeCom.
    """
    group = upsert_retrying(_write_group, data, touch)
    db.session.commit()
    return group


def _write_group(data, touch):
    """store_group's writes, uncommitted."""
    with db.session.no_autoflush:  # a flush midway would hide the changes from has_changes()
        group = db.session.get(GroupChat, data["chat_id"])
        if group is None:
            group = GroupChat(chat_id=data["chat_id"])
            db.session.add(group)
        group.name = data.get("name") or ""
        group.owner = data.get("owner") or ""
        group.notice = data.get("notice") or None
        group.created_at = from_epoch(data.get("create_time"))
        group.member_version = data.get("member_version")
        group.dismissed_at = None
        admins = {a["userid"] for a in data.get("admin_list", [])}
        _store_members(group, data.get("member_list", []), admins)
        group.group_changed = has_changes()
    if touch or group.group_changed:
        group.fetched_at = utcnow()
    return group


def has_changes():
    """Whether the session holds new rows or rows with a value that really differs from the stored one."""
    return bool(db.session.new) or any(db.session.is_modified(row) for row in db.session.dirty)


def _store_members(group, member_list, admins):
    """Upsert members present now; mark the ones no longer listed as left."""
    existing = {m.member_id: m for m in db.session.scalars(
        db.select(GroupMember).where(GroupMember.chat_id == group.chat_id))}
    for item in member_list:
        member = existing.pop(item["userid"], None)
        if member is None:
            member = GroupMember(chat_id=group.chat_id, member_id=item["userid"], type=item.get("type", 2))
            db.session.add(member)
        member.type = item.get("type", 2)
        member.name = item.get("name") or None
        member.group_nickname = item.get("group_nickname") or None
        member.unionid = item.get("unionid") or None
        member.joined_at = from_epoch(item.get("join_time"))
        member.join_scene = item.get("join_scene")
        member.invitor = (item.get("invitor") or {}).get("userid")
        member.is_admin = item["userid"] in admins
        member.left_at = None
    for member in existing.values():
        if member.left_at is None:
            member.left_at = utcnow()


def end_follows(external_userid, userid=None):
    """End the active follows of a contact (of one advisor, or all): access goes at once; returns how many.

    Boundary: committed at once, so the advisor's access is gone even if the re-fetch that follows fails.
    """
    query = db.select(Follow).where(Follow.external_userid == external_userid, Follow.ended_at.is_(None))
    if userid is not None:
        query = query.where(Follow.userid == userid)
    follows = db.session.scalars(query).all()
    for follow in follows:
        follow.ended_at = utcnow()
    db.session.commit()
    return len(follows)


def dismiss_group(chat_id):
    """Mark a local group dismissed (members kept); False when unknown or already dismissed."""
    group = db.session.get(GroupChat, chat_id)
    if group is None or group.dismissed_at is not None:
        return False
    group.dismissed_at = utcnow()
    return True


def ensure_staff(wecom, userid):
    """The member's record, fetched from WeCom (user/get) only the first time.

    Two sidebars of a new member logging in at once both insert it: the later one finds it instead.
    Boundary: a fetched member is committed at once, as store_contact is, before the caller's next call to WeCom.
    """
    staff = db.session.get(Staff, userid)
    if staff is None:
        staff = upsert_retrying(_add_staff, wecom, userid)
        db.session.commit()
    return staff


def _add_staff(wecom, userid):
    """Fetch and add the member, unless another login stored them meanwhile (uncommitted)."""
    staff = db.session.get(Staff, userid)
    if staff is None:
        staff = Staff(userid=userid)
        db.session.add(staff)
        assign(staff, staff_values(userid, wecom.get_user(userid)))
    return staff


def staff_values(userid, data):
    """Staff columns from a user/get answer."""
    return {"name": data.get("name") or userid, "department": data.get("department") or [],
            "position": data.get("position") or None}
