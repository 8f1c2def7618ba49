"""Arrivals: a contact added through a channel's code, or a member who joined a group through one.

The welcome goes first and alone (a priority task, as soon as the callback is stored): WeCom takes a
WelcomeCode for 20 seconds, once. The rest — the channel on the record, its tags — comes with the
callback's processing, after the contact was re-fetched. No WelcomeCode (an admin's welcome went
instead), 41051 (someone sent first) or a late code are recorded and never retried; a retired
channel's code sends nothing and tags no one, and the arrival is still recorded.
"""
from sqlalchemy import select

from ..database import upsert
from ..domain.directory import store_contact
from ..extensions import db
from ..models import (Channel, ChannelArrival, CorpTag, Follow, GroupChat, Material, SopPlan, SopTarget, from_epoch,
                      utcnow)
from ..sop.tick import is_held_out
from ..wecom import WeComError, WeComUnavailable, errors

ADD = "add_external_contact"
WELCOME_OUTCOMES = {errors.WELCOME_TAKEN: "taken", errors.WELCOME_EXPIRED: "late"}


def is_channel_add(fields):
    """Whether a callback is an add through a code that carries a state (a candidate arrival)."""
    return (fields.get("Event") == "change_external_contact" and fields.get("ChangeType") == ADD
            and all(_text(fields, name) for name in ("State", "ExternalUserID", "UserID")))


def send_welcome(wecom, fields):
    """The welcome of an add through a channel (the priority task); returns the outcome, or None when the
    state names no channel of ours.

    Boundary: the arrival is committed before the call to WeCom (no write transaction held across it) and the
    outcome right after it, so a repeat of the task finds it and never sends the welcome twice.
    """
    channel = _channel(_text(fields, "State"))
    if channel is None or not is_channel_add(fields):
        return None
    arrival = _arrival_of_add(channel, fields)
    db.session.commit()  # no write transaction is held across the call to WeCom (its token cache writes too)
    if arrival.welcome != "pending":
        return arrival.welcome  # a repeat of the task: the code is good once anyway
    code = _text(fields, "WelcomeCode")
    if not channel.active:
        outcome, note = "retired", None
    elif channel.welcome_id is None:
        outcome, note = "unset", None
    elif not code:
        outcome, note = "none", None
    else:
        outcome, note = _send(wecom, code, channel.welcome_id)
    arrival.welcome, arrival.welcome_error = outcome, note
    db.session.commit()
    return outcome


def record_add(wecom, fields):
    """After the contact was re-fetched: the arrival recorded, the channel's tags put on the relation.

    Boundary: committed before mark_tag (no write transaction held across a call to WeCom) and right after it,
    so a retry of the task does not tag twice.
    """
    channel = _channel(_text(fields, "State"))
    if channel is None or not is_channel_add(fields):
        return None
    arrival = _arrival_of_add(channel, fields)
    if not channel.active and arrival.welcome == "pending":
        arrival.welcome = "retired"
    db.session.commit()  # before mark_tag: no write transaction held across a call to WeCom
    if channel.active and channel.tag_ids and not arrival.tagged:
        wecom.mark_tag(arrival.userid, arrival.external_userid, add=channel.tag_ids)  # a failure: the task retries
        arrival.tagged = True
        db.session.commit()
        _show_tags(wecom, arrival.userid, arrival.external_userid, channel.tag_ids)
    return arrival


def record_joins(group):
    """Members of a stored group (groupchat/get's data) who came in through a join code: one arrival each,
    whether the callback told us or the nightly sync found them; returns how many were new. An arrival
    already recorded is left as it is. A group the code made when the others were full joins its
    siblings' SOP plans, while the channel is live."""
    chat = group.get("chat_id")
    joined = [m for m in group.get("member_list", []) if m.get("type") == 2 and m.get("state")]
    channels = {state: c for state, c in _channels({m["state"] for m in joined}).items() if c.kind == "group"}
    joined = [m for m in joined if m["state"] in channels]
    if not joined:
        return 0
    for state in {m["state"] for m in joined}:
        channel = channels[state]
        if chat not in channel.chat_ids and _made_by_code(channel, group):
            _adopt_room(channel, chat, group.get("owner"))
    # one arrival per member, group and channel: a refetch, a nightly sync or a rejoin through the same code
    # adds none (nor does a world whose join times moved, as the demo's emulator's do at each start)
    known = set(db.session.execute(select(ChannelArrival.channel_id, ChannelArrival.external_userid).where(
        ChannelArrival.chat_id == chat, ChannelArrival.external_userid.in_([m["userid"] for m in joined]))).tuples())
    added = 0
    for member in joined:
        channel = channels[member["state"]]
        if (channel.id, member["userid"]) in known:
            continue
        arrived = from_epoch(member.get("join_time")) or utcnow()
        _ensure_arrival(channel, _join_key(chat, member), "group", member["userid"], group.get("owner"), chat,
                        arrived, "unset")
        known.add((channel.id, member["userid"]))
        added += 1
    return added


def _join_key(chat, member):
    """The source key of one join: the same from a callback's fetch and from the sync's."""
    return f"g:{chat}:{member['userid']}:{member.get('join_time') or 0}"


def _made_by_code(channel, group):
    """Whether a group not among the channel's may be one its code made: the channel is live and the group
    is younger than it (a group the operator took off the channel is older, and is not taken back)."""
    created = from_epoch(group.get("create_time"))
    return channel.active and created is not None and created >= channel.created_at.replace(microsecond=0)


# -- arrivals -----------------------------------------------------------------------------------------

def _arrival_of_add(channel, fields):
    """The arrival row of one add (made once, whichever of the two tasks comes first)."""
    created = fields.get("CreateTime")
    arrived = from_epoch(created) if isinstance(created, str) and created.isdigit() else utcnow()
    key = f"c:{_text(fields, 'UserID')}:{_text(fields, 'ExternalUserID')}:{created or ''}"
    return _ensure_arrival(channel, key, "contact", _text(fields, "ExternalUserID"), _text(fields, "UserID"), None,
                           arrived, "pending")


def _ensure_arrival(channel, key, kind, external_userid, userid, chat_id, arrived, welcome):
    """The arrival with this source key, inserted if new (a concurrent insert wins, and is read back)."""
    existing = db.session.scalar(select(ChannelArrival).where(ChannelArrival.source_key == key))
    if existing is not None:
        return existing
    first = db.session.scalar(select(ChannelArrival.id).where(
        ChannelArrival.external_userid == external_userid, ChannelArrival.arrived_at <= arrived).limit(1)) is None
    db.session.execute(upsert(db.engine, ChannelArrival).values(
        source_key=key, channel_id=channel.id, state=channel.state, kind=kind, external_userid=external_userid,
        userid=userid, chat_id=chat_id, arrived_at=arrived, first=first, welcome=welcome, welcome_error=None,
        tagged=False).on_conflict_do_nothing())
    return db.session.scalar(select(ChannelArrival).where(ChannelArrival.source_key == key))


def _channel(state):
    """The channel of a state (retired ones too), or None."""
    return db.session.scalar(select(Channel).where(Channel.state == state)) if state else None


def _channels(states):
    """state -> channel."""
    if not states:
        return {}
    return {c.state: c for c in db.session.scalars(select(Channel).where(Channel.state.in_(states)))}


def _text(fields, name):
    """A field's text, or ''."""
    value = fields.get(name)
    return value if isinstance(value, str) else ""


# -- the welcome and the tags -----------------------------------------------------------------------------

def _send(wecom, code, material_id):
    """(outcome, note) of sending a material as the welcome."""
    text, attachments = welcome_payload(material_id)
    if not text and not attachments:
        return "failed", "欢迎语物料已不可用"
    try:
        wecom.send_welcome_msg(code, text, attachments)
    except WeComUnavailable as error:
        return "failed", str(error)[:200]
    except WeComError as error:
        return WELCOME_OUTCOMES.get(error.errcode, "failed"), f"errcode {error.errcode}"
    return "sent", None


def welcome_payload(material_id):
    """(text, attachments) of a welcome material's live version; empty when it is no longer shareable."""
    material = db.session.get(Material, material_id)
    version = material.live if material and material.withdrawn_at is None else None
    if version is None:
        return "", []
    if material.kind == "text":
        return version.body or version.title, []
    link = {"title": version.title, "url": version.url, "desc": version.summary or ""}
    return "", [{"msgtype": "link", "link": link}]


def _show_tags(wecom, userid, external_userid, tag_ids):
    """mark_tag sends no callback: re-fetch the contact (tags with their names), else patch our copy."""
    try:
        store_contact(wecom.get_external_contact(external_userid))
    except WeComError:  # it came before anything was stored: nothing to undo
        _tag_locally(userid, external_userid, tag_ids)


def _tag_locally(userid, external_userid, tag_ids):
    """Put the tags we know by name on our copy of the relation."""
    follow = db.session.scalar(select(Follow).where(Follow.userid == userid, Follow.external_userid == external_userid))
    if follow is None:
        return
    have = {t.get("tag_id") for t in follow.tags or []}
    tags = db.session.scalars(select(CorpTag).where(CorpTag.tag_id.in_([t for t in tag_ids if t not in have]))).all()
    follow.tags = list(follow.tags or []) + [{"tag_id": t.tag_id, "group_name": t.group_name, "tag_name": t.name,
                                              "type": 1} for t in tags]


# -- a room the code made ------------------------------------------------------------------------------

def _adopt_room(channel, chat_id, owner):
    """A group WeCom made for the code (the others were full): a sibling from now on, on the same SOP plans."""
    siblings = list(channel.chat_ids)
    channel.chat_ids = siblings + [chat_id]
    now = utcnow()
    plans = db.session.scalars(select(SopPlan).join(SopTarget, SopTarget.plan_id == SopPlan.id).where(
        SopTarget.target_id.in_(siblings), SopTarget.kind == "group", SopTarget.ended_at.is_(None),
        SopPlan.paused_at.is_(None)).distinct()).all()
    owner = owner or db.session.scalar(select(GroupChat.owner).where(GroupChat.chat_id == chat_id))
    for plan in plans:
        live = plan.live
        if live is None:
            continue
        db.session.execute(upsert(db.engine, SopTarget).values(
            plan_id=plan.id, kind="group", target_id=chat_id, advisor=owner, started_at=now,
            holdout=is_held_out(plan.id, chat_id, live.spec.get("holdout", 0))).on_conflict_do_nothing())
