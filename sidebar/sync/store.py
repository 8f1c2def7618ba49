"""Write WeCom's answers into the local copy: upserts, and relations ended rather than deleted."""
from sqlalchemy import delete, insert

from ..extensions import db
from ..models import ContactMobile, ExternalContact, Follow, GroupChat, GroupMember, from_epoch, utcnow
from .profiles import link_profiles, normalise_mobile


def store_contact(payload):
    """Upsert a contact, its follows and noted mobiles from an externalcontact/get answer; link its profiles."""
    data = payload["external_contact"]
    contact = db.session.get(ExternalContact, data["external_userid"])
    if contact is None:
        contact = ExternalContact(external_userid=data["external_userid"])
        db.session.add(contact)
    contact.name = data.get("name") or ""
    contact.type = data.get("type", 1)
    contact.gender = data.get("gender", 0)
    contact.unionid = data.get("unionid") or None
    contact.corp_name = data.get("corp_name") or None
    contact.position = data.get("position") or None
    contact.fetched_at = utcnow()
    _store_follows(contact, payload.get("follow_user", []))
    _store_mobiles(contact, payload.get("follow_user", []))
    link_profiles(contact)
    db.session.commit()
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
        follow.remark = item.get("remark") or None
        follow.description = item.get("description") or None
        follow.added_at = from_epoch(item.get("createtime"))
        follow.add_way = item.get("add_way")
        follow.state = item.get("state") or None
        follow.remark_mobiles = list(item.get("remark_mobiles") or [])
        follow.tags = [{"tag_id": t.get("tag_id"), "group_name": t.get("group_name"),
                        "tag_name": t.get("tag_name"), "type": t.get("type")} for t in item.get("tags", [])]
        follow.ended_at = None
    for follow in existing.values():
        if follow.ended_at is None:
            follow.ended_at = utcnow()


def _store_mobiles(contact, follow_users):
    """Keep the contact's noted mobiles equal to those of its current follows: how profiles find it."""
    wanted = {mobile for item in follow_users for raw in item.get("remark_mobiles") or []
              if (mobile := normalise_mobile(raw))}
    stored = set(db.session.scalars(db.select(ContactMobile.mobile).where(
        ContactMobile.external_userid == contact.external_userid)))
    if stored - wanted:
        db.session.execute(delete(ContactMobile).where(
            ContactMobile.external_userid == contact.external_userid, ContactMobile.mobile.in_(stored - wanted)))
    if wanted - stored:
        db.session.execute(insert(ContactMobile), [
            {"mobile": mobile, "external_userid": contact.external_userid} for mobile in sorted(wanted - stored)])


def store_group(data):
    """Upsert a group and its members from a groupchat/get answer; leavers keep their row."""
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
    group.fetched_at = utcnow()
    admins = {a["userid"] for a in data.get("admin_list", [])}
    _store_members(group, data.get("member_list", []), admins)
    db.session.commit()
    return group


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
