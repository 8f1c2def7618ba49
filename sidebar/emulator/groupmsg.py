"""Enterprise mass send (客户群发, wecom.md §5): add_msg_template makes a task that nothing sends until
its sender confirms it in the simulated client; the result APIs, remind and cancel; WeCom's monthly cap.

A client or group receives at most as many 群发 a month as the month has days (China time); a
recipient over it gets status 3, a contact who is no longer the sender's friend status 2.
Errcodes WeCom does not document for these calls are marked UNCONFIRMED.
"""
from urllib.parse import urlencode

from flask import Blueprint, jsonify, redirect, request, url_for

from . import api
from .api import ApiError, endpoint, limit_of, page
from .mass import MassSend, Recipient, month_of
from .state import current_state

MAX_CONTACTS = 10_000
MAX_GROUPS = 2_000
MAX_ATTACHMENTS = 9
MAX_TEXT_BYTES = 4_000
REMINDS_PER_DAY = 3
ATTACHMENT_KINDS = ("image", "link", "miniprogram", "video", "file")
api.ERRMSG.setdefault(40007, "invalid media_id")
api.ERRMSG.setdefault(41063, "msgid not found")  # UNCONFIRMED: the errcode of an unknown msgid

bp = Blueprint("groupmsg", __name__)


# -- the server API -------------------------------------------------------------------------------


@endpoint("externalcontact/add_msg_template", method="POST")
def add_msg_template(state, call):
    """A mass-send task for the sender's clients (single) or groups (group); answers msgid and fail_list."""
    body, world = call.body, state.world
    chat_type = body.get("chat_type", "single")
    if chat_type not in ("single", "group"):
        raise ApiError(40058)
    sender = body.get("sender") or ""
    if sender:
        world.staff_member(sender)  # 60111 for an unknown member
    elif chat_type == "group":
        raise ApiError(41009)
    text, attachments = _content(state, body)
    if chat_type == "single":
        recipients, failed = _contacts(world, sender, body.get("external_userid"))
    else:
        recipients, failed = _groups(world, sender, body.get("chat_id_list"))
    msgid = f"msgGM{len(state.mass.items) + 1:06d}{world.new_id('', 10)}"
    state.mass.items[msgid] = MassSend(msgid, chat_type, sender, text, attachments, int(state.now()), recipients)
    return {"fail_list": failed, "msgid": msgid}


def _content(state, body):
    """(text, attachments) of a template, checked like WeCom: at least one, ≤9 attachments, live media."""
    text = (body.get("text") or {}).get("content", "") if isinstance(body.get("text"), dict) else ""
    attachments = body.get("attachments") or []
    if not isinstance(text, str) or len(text.encode()) > MAX_TEXT_BYTES or not isinstance(attachments, list):
        raise ApiError(40058)
    if not text.strip() and not attachments:
        raise ApiError(40058)
    if len(attachments) > MAX_ATTACHMENTS:
        raise ApiError(40058)
    for item in attachments:
        _check_attachment(state, item)
    return text, attachments


def _check_attachment(state, item):
    """One attachment: a known msgtype with its required fields; media ids live and of the right type."""
    kind = item.get("msgtype") if isinstance(item, dict) else None
    content = item.get(kind) if kind in ATTACHMENT_KINDS else None
    if not isinstance(content, dict):
        raise ApiError(40058)
    required = {"image": (), "link": ("title", "url"), "miniprogram": ("title", "pic_media_id", "appid", "page"),
                "video": ("media_id",), "file": ("media_id",)}[kind]
    if any(not isinstance(content.get(name), str) or not content[name] for name in required):
        raise ApiError(40058)
    if kind == "image" and not (content.get("media_id") or content.get("pic_url")):
        raise ApiError(40058)
    media_kind = {"image": "image", "video": "video", "file": "file", "miniprogram": "image"}.get(kind)
    media_id = content.get("pic_media_id" if kind == "miniprogram" else "media_id")
    if media_kind and media_id:
        media = state.media.get(media_id, state.now())
        if media is None or media.type != media_kind:
            raise ApiError(40007)


def _contacts(world, sender, ids):
    """Recipients of a single-chat mass send, and the ids that are nobody's friend (of the sender)."""
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_CONTACTS:
        raise ApiError(40058)
    recipients, failed = [], []
    for external_userid in dict.fromkeys(ids):
        followers = [sender] if (sender, external_userid) in world.follows else []
        if not sender:  # without a sender every member who follows the client sends it
            followers = [r.userid for r in world.followers_of(external_userid)] if external_userid in world.externals else []
        if not followers:
            failed.append(external_userid)
        recipients += [Recipient(userid, external_userid) for userid in followers]
    return recipients, failed


def _groups(world, sender, ids):
    """Recipients of a group mass send: the sender's own live groups; others fail."""
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_GROUPS:
        raise ApiError(40058)
    recipients, failed = [], []
    for chat_id in dict.fromkeys(ids):
        group = world.groups.get(chat_id)
        if group is None or group.owner != sender or group.status != 0:
            failed.append(chat_id)
        else:
            recipients.append(Recipient(sender, chat_id))
    return recipients, failed


def _find(state, msgid):
    """The mass send of a msgid (41063 otherwise)."""
    found = state.mass.items.get(msgid) if isinstance(msgid, str) else None
    if found is None:
        raise ApiError(41063)
    return found


@endpoint("externalcontact/get_groupmsg_task", method="POST")
def get_groupmsg_task(state, call):
    """Each member's part of a mass send: status 0 not sent, 2 sent, with send_time."""
    mass = _find(state, call.body.get("msgid"))
    limit = limit_of(call.body, default=500, maximum=1000)
    members = list(dict.fromkeys(r.userid for r in mass.recipients))
    tasks = [{"userid": u, "status": 2 if u in mass.sent else 0, "send_time": mass.sent.get(u, 0)} for u in members]
    chunk, next_cursor = page(tasks, call.body.get("cursor"), limit)
    return {"next_cursor": next_cursor, "task_list": chunk}


@endpoint("externalcontact/get_groupmsg_send_result", method="POST")
def get_groupmsg_send_result(state, call):
    """One member's recipients with status 0 not sent, 1 sent, 2 not a friend, 3 already received a 群发."""
    mass = _find(state, call.body.get("msgid"))
    userid = call.body.get("userid")
    if not userid:
        raise ApiError(41009)
    limit = limit_of(call.body, default=500, maximum=1000)
    key = "external_userid" if mass.chat_type == "single" else "chat_id"
    rows = [{key: r.target, "userid": r.userid, "status": r.status, "send_time": r.send_time}
            for r in mass.recipients if r.userid == userid]
    chunk, next_cursor = page(rows, call.body.get("cursor"), limit)
    return {"next_cursor": next_cursor, "send_list": chunk}


@endpoint("externalcontact/remind_groupmsg_send", method="POST")
def remind_groupmsg_send(state, call):
    """Remind the members who have not sent it yet (at most 3 times a message in 24 hours)."""
    mass = _find(state, call.body.get("msgid"))
    now = state.now()
    recent = [t for t in mass.reminds if now - t < 86400]
    if len(recent) >= REMINDS_PER_DAY:
        raise ApiError(40058)  # UNCONFIRMED: the errcode of a fourth reminder (not a rate limit: no pause)
    mass.reminds = recent + [now]
    waiting = sorted({r.userid for r in mass.recipients if r.userid not in mass.sent})
    state.recorder.record_message({"kind": "groupmsg-remind", "userid": None, "chat": None, "msgid": mass.msgid,
                                   "touser": waiting, "message": {"msgtype": "text", "text": {
                                       "content": "你有一条客户群发待发送，请在「群发助手」中确认"}}, "at": now})
    return {}


@endpoint("externalcontact/cancel_groupmsg_send", method="POST")
def cancel_groupmsg_send(state, call):
    """Stop a mass send: what was not confirmed yet will never be sent."""
    _find(state, call.body.get("msgid")).cancelled = True
    return {}


# -- the sender's confirmation ----------------------------------------------------------------------


class Refused(Exception):
    """The confirmation is refused; the message says why."""


def confirm(state, msgid, userid):
    """The member sends their part of a mass send now: each recipient gets 1, 2 or 3; returns the counts."""
    mass = state.mass.items.get(msgid)
    if mass is None or not any(r.userid == userid for r in mass.recipients):
        raise Refused("没有这条群发")
    if mass.cancelled:
        raise Refused("该群发已被取消")
    if userid in mass.sent:
        raise Refused("该群发已发送")
    now = int(state.now())
    mass.sent[userid] = now
    counts = {1: 0, 2: 0, 3: 0}
    for recipient in (r for r in mass.recipients if r.userid == userid):
        recipient.status, recipient.send_time = _deliver(state, mass, recipient, now), now
        counts[recipient.status] += 1
    return counts


def _deliver(state, mass, recipient, now):
    """Send to one recipient if it can still receive it: 1 sent (in its chat), 2 not a friend, 3 over the cap."""
    world = state.world
    if mass.chat_type == "single" and (recipient.userid, recipient.target) not in world.follows:
        return 2
    if mass.chat_type == "group" and recipient.target not in world.groups:
        return 2
    key = (recipient.target, month_of(now))
    if state.mass.received.get(key, 0) >= state.mass.cap_for(now):
        return 3
    state.mass.received[key] = state.mass.received.get(key, 0) + 1
    chat = ("contact:" if mass.chat_type == "single" else "group:") + recipient.target
    message = {"msgtype": "mass", "text": mass.text, "attachments": mass.attachments}
    state.recorder.record_message({"kind": "mass", "userid": recipient.userid, "chat": chat, "msgid": mass.msgid,
                                   "message": message, "at": now})
    return 1


@bp.app_template_global()
def pending_groupmsgs(userid):
    """The simulated client's 群发助手: the member's mass sends waiting for confirmation."""
    state = current_state()
    with state.lock:
        return [{"msgid": m.msgid, "text": m.text, "attachments": len(m.attachments), "chat_type": m.chat_type,
                 "count": sum(1 for r in m.recipients if r.userid == userid)} for m in state.mass.pending_for(userid)]


@bp.post("/client/groupmsg/<msgid>/send")
def send_from_client(msgid):
    """The 发送 button of the 群发助手 in the simulated client."""
    state = current_state()
    userid, chat = request.form.get("userid", ""), request.form.get("chat", "")
    with state.lock:
        try:
            counts = confirm(state, msgid, userid)
            notice = f"群发已发送：送达 {counts[1]}，非好友 {counts[2]}，本月已达上限 {counts[3]}"
        except Refused as refusal:
            notice = str(refusal)
    return redirect(url_for("client.show") + "?" + urlencode({"userid": userid, "chat": chat, "notice": notice}),
                    303)


# -- test switches ---------------------------------------------------------------------------------


@bp.get("/_admin/groupmsg")
def show_mass_sends():
    """Every mass send, the monthly counts and the cap."""
    state = current_state()
    with state.lock:
        return jsonify(items=[m.as_json() for m in state.mass.items.values()], cap=state.mass.cap,
                       received={f"{target}@{month}": n for (target, month), n in state.mass.received.items()})


@bp.post("/_admin/groupmsg")
def set_mass_switches():
    """Set the monthly cap (`cap`: a number, or null for the month's days) and recipients' counts
    already received this month (`received`: {target: n})."""
    state = current_state()
    body = request.get_json(silent=True) or {}
    cap, received = body.get("cap"), body.get("received") or {}
    if cap is not None and not (isinstance(cap, int) and cap >= 0):
        return jsonify(error="cap must be a number of mass sends, or null"), 400
    with state.lock:
        if "cap" in body:
            state.mass.cap = cap
        for target, count in received.items():
            state.mass.received[(target, month_of(state.now()))] = int(count)
    return jsonify(ok=True)


@bp.post("/_admin/groupmsg/<msgid>/send")
def send_as_member(msgid):
    """Confirm a mass send as member `userid` (what the member does in WeCom), for tests."""
    state = current_state()
    body = request.get_json(silent=True) or {}
    with state.lock:
        try:
            counts = confirm(state, msgid, body.get("userid", ""))
        except Refused as refusal:
            return jsonify(ok=False, error=str(refusal)), 409
    return jsonify(ok=True, sent=counts[1], not_friend=counts[2], over_cap=counts[3])
