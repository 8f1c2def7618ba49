"""Editing a client from the sidebar: remark, description and the firm's WeCom tags, and linking a
prospect by the mobile they give. Written to WeCom first, then to the local copy at once (WeCom's own
callback, if one follows, re-fetches the same state: applying it again changes nothing).

Only tags of the firm's own corp tag groups: the 客户画像 group belongs to the trading import
(sync/tags.py), which would put its tags back on the next push anyway.
"""
from dataclasses import dataclass

from sqlalchemy import select

from ..domain.facts import PROFILE_GROUP
from ..domain.linking import link_profiles, normalise_mobile
from ..extensions import db
from ..models import ContactMobile, CorpTag, TagChange
from ..sync.tags import refresh_corp_tags
from ..wecom import WeComError
from .service import InvalidInput, own_follow

REMARK_MAX, DESCRIPTION_MAX = 20, 150  # WeCom's limits on externalcontact/remark
MOBILES_MAX = 5


@dataclass
class Edit:
    """What the form asks to change: None for a field it did not send."""

    remark: str | None = None
    description: str | None = None
    add_tag: tuple = ()
    remove_tag: tuple = ()


def firm_tags(wecom):
    """The corp tags an advisor may set, by group (never 客户画像), in WeCom's order: [(group, [CorpTag])].

    Read from the local mirror; a mirror never filled yet (before the first sync) is filled from WeCom once.
    """
    if db.session.scalar(select(CorpTag.tag_id).limit(1)) is None:
        try:
            refresh_corp_tags(wecom)
        except WeComError:
            pass  # nothing was written before it; the form offers no tags (remark and description still work)
    rows = db.session.scalars(select(CorpTag).where(CorpTag.group_name != PROFILE_GROUP)
                              .order_by(CorpTag.group_order, CorpTag.group_id, CorpTag.sort_order, CorpTag.name)).all()
    groups = {}
    for row in rows:
        groups.setdefault(row.group_name, []).append(row)
    return list(groups.items())


def edit_profile(wecom, advisor, external_userid, edit):
    """Apply the edit in WeCom and locally; returns the follow. InvalidInput before any call when the edit is bad.

    Boundary: what WeCom took is committed even when a later call failed (the request then fails and rolls back).
    """
    follow = own_follow(wecom, advisor, external_userid)
    texts = _text_changes(follow, edit)
    add, remove = _tag_changes(follow, edit)
    if texts:
        wecom.remark(advisor, follow.external_userid, **texts)
        for name, value in texts.items():
            setattr(follow, name, value or None)
    try:
        if add or remove:
            wecom.mark_tag(advisor, follow.external_userid, add=[t.tag_id for t in add],
                           remove=[t.tag_id for t in remove])
            removed = {t.tag_id for t in remove}
            follow.tags = [t for t in follow.tags or [] if t.get("tag_id") not in removed] + [
                {"tag_id": t.tag_id, "group_name": t.group_name, "tag_name": t.name, "type": 1} for t in add]
            _record_tags(advisor, follow.external_userid, add, remove)
    finally:
        db.session.commit()  # what WeCom took is kept even when a later call failed
    return follow


def _record_tags(advisor, external_userid, add, remove):
    """Keep the tag history for the client's timeline (WeCom keeps none we could read)."""
    db.session.add_all(TagChange(external_userid=external_userid, userid=advisor, action=action, tag_id=t.tag_id,
                                 tag_name=t.name) for action, tags in (("add", add), ("remove", remove)) for t in tags)


def _text_changes(follow, edit):
    """{field: new value} of remark and description that differ from the stored ones."""
    changes = {}
    for name, limit, label in (("remark", REMARK_MAX, "备注名"), ("description", DESCRIPTION_MAX, "描述")):
        value = getattr(edit, name)
        if value is None:
            continue
        value = value.strip()
        if len(value) > limit:
            raise InvalidInput(f"{label}最多 {limit} 字")
        if value != (getattr(follow, name) or ""):
            changes[name] = value
    return changes


def _tag_changes(follow, edit):
    """(tags to add, tags to remove) as CorpTag rows, only real changes; InvalidInput for a tag not the firm's."""
    wanted = set(edit.add_tag) | set(edit.remove_tag)
    if set(edit.add_tag) & set(edit.remove_tag):
        raise InvalidInput("同一个标签不能同时添加和移除")
    rows = {row.tag_id: row for row in db.session.scalars(select(CorpTag).where(CorpTag.tag_id.in_(wanted)))}
    if any(tag_id not in rows or rows[tag_id].group_name == PROFILE_GROUP for tag_id in wanted):
        raise InvalidInput("只能修改本公司标签分组中的标签（客户画像标签由交易系统维护）")
    carried = {t.get("tag_id") for t in follow.tags or []}
    return ([rows[t] for t in dict.fromkeys(edit.add_tag) if t not in carried],
            [rows[t] for t in dict.fromkeys(edit.remove_tag) if t in carried])


def link_mobile(wecom, advisor, external_userid, mobile):
    """Note the mobile a prospect gave as a WeCom remark mobile, store it, and match their trading account.

    Returns how many profiles were linked to the contact by it (0: no account has that mobile yet; the
    next import of one will find it).
    """
    follow = own_follow(wecom, advisor, external_userid)
    number = normalise_mobile(mobile)
    if number is None:
        raise InvalidInput("请输入 11 位手机号")
    noted = [m for m in follow.remark_mobiles or [] if normalise_mobile(m) != number]
    if len(noted) >= MOBILES_MAX:
        raise InvalidInput(f"每位客户最多记录 {MOBILES_MAX} 个手机号")
    mobiles = [*noted, number]
    wecom.remark(advisor, follow.external_userid, remark_mobiles=mobiles)
    follow.remark_mobiles = mobiles
    if db.session.get(ContactMobile, (number, follow.external_userid)) is None:
        db.session.add(ContactMobile(mobile=number, external_userid=follow.external_userid))
        db.session.flush()
    linked = link_profiles(follow.contact)
    return linked


__all__ = ["Edit", "WeComError", "edit_profile", "firm_tags", "link_mobile"]
