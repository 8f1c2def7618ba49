"""Acquisition in the emulator: contact-me and group join codes, their QR images, the prospect who scans
one, and send_welcome_msg with WeCom's 20-second, one-shot WelcomeCode (wecom.md §5).

A scan is a change of the world (a new follow, or a member joining a group), so the app hears of it
by the callback WeCom would send: `State` and `WelcomeCode` for an add, `state` in the group's member
list for a join. A join code whose groups are all full makes the next group, as auto_create_room does.
"""
import io
import itertools
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import segno
from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for

from .admin import bad_request, is_int, json_body
from .api import ApiError, endpoint
from .changes import APP_PROCESSING_SECONDS, WAIT_SECONDS
from .state import EXTENSION, current_state
from .world import External, Follow, Group, Member, WorldError

bp = Blueprint("acquisition", __name__)
WELCOME_SECONDS = 20  # a WelcomeCode is good this long after the add, and once
ROOM_CAPACITY = 200  # members of a group a join code still sends people to
MAX_CHATS = 5
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["晓明", "雨涵", "子轩", "欣怡", "浩然", "梓萱", "一鸣", "思远", "佳琪", "建国", "秀英", "文博"]


@dataclass
class Way:
    """A contact-me (`contact`) or join (`group`) configuration, as the app made it."""

    config_id: str
    kind: str
    settings: dict
    capacity: int = ROOM_CAPACITY
    turn: itertools.count = field(default_factory=itertools.count)  # whose turn among several members


@dataclass
class WelcomeCode:
    """A WelcomeCode the world issued with an add."""

    userid: str
    external_userid: str
    issued_at: float
    used: bool = False


class Desk:
    """The codes, the WelcomeCodes issued and the welcomes sent (under the world's lock)."""

    def __init__(self):
        self.ways = {}
        self.codes = {}
        self.welcomes = {}  # "contact:<external_userid>" -> the welcome that went into that chat


def init_app(app, state):
    """Give the emulator its acquisition desk, endpoints and pages."""
    state.acquisition = Desk()
    state.world.listeners.append(lambda change: _issued(state, change))
    app.register_blueprint(bp)
    app.add_template_global(lambda key: state.acquisition.welcomes.get(key), "welcome_for")


def _issued(state, change):
    """Remember each WelcomeCode an add_external_contact callback carries (a world listener, under the lock)."""
    if change.get("ChangeType") == "add_external_contact" and change.get("WelcomeCode"):
        state.acquisition.codes[change["WelcomeCode"]] = WelcomeCode(change["UserID"], change["ExternalUserID"],
                                                                     state.now())


def _desk(state):
    """The state's desk."""
    return state.acquisition


def _way(state, body, kind):
    """The configuration a body's config_id names, of this kind."""
    way = _desk(state).ways.get(body.get("config_id"))
    if way is None or way.kind != kind:
        raise ApiError(40058)
    return way


def _text(body, name, limit):
    """An optional short text field, refused when too long."""
    value = body.get(name) or ""
    if not isinstance(value, str) or len(value) > limit:
        raise ApiError(40058)
    return value


def qr_url(config_id):
    """Where the emulator serves a code's QR image (an absolute URL, like WeCom's qr_code)."""
    return url_for("acquisition.qr_image", config_id=config_id, _external=True)


# -- contact-me codes -------------------------------------------------------------------------------

def _contact_settings(state, body):
    """Checked settings of add/update_contact_way."""
    users = body.get("user") or []
    if body.get("type") not in (1, 2) or body.get("scene") not in (1, 2) or not isinstance(users, list) or not users:
        raise ApiError(40058)
    if (body["type"] == 1 and len(users) != 1) or len(users) > 100:
        raise ApiError(40058)
    for userid in users:
        state.world.staff_member(userid)  # 60111 for an unknown member
    return {"type": body["type"], "scene": body["scene"], "remark": _text(body, "remark", 30),
            "skip_verify": bool(body.get("skip_verify", True)), "state": _text(body, "state", 30),
            "user": list(users), "party": list(body.get("party") or [])}


@endpoint("externalcontact/add_contact_way", method="POST")
def add_contact_way(state, call):
    """A new contact-me configuration; scene 2 has a QR code."""
    settings = _contact_settings(state, call.body)
    config_id = secrets.token_hex(16)
    _desk(state).ways[config_id] = Way(config_id, "contact", settings)
    return {"config_id": config_id, **({"qr_code": qr_url(config_id)} if settings["scene"] == 2 else {})}


@endpoint("externalcontact/get_contact_way", method="POST")
def get_contact_way(state, call):
    """One contact-me configuration."""
    way = _way(state, call.body, "contact")
    return {"contact_way": {"config_id": way.config_id, **way.settings, "qr_code": qr_url(way.config_id)}}


@endpoint("externalcontact/update_contact_way", method="POST")
def update_contact_way(state, call):
    """Change a contact-me configuration (its type and scene stay)."""
    way = _way(state, call.body, "contact")
    body = {**way.settings, **{k: v for k, v in call.body.items() if k != "config_id"}}
    users = body.get("user") if isinstance(body.get("user"), list) else []
    way.settings = _contact_settings(state, {**body, "type": 1 if len(users) == 1 else 2,
                                             "scene": way.settings["scene"]})
    return {}


@endpoint("externalcontact/del_contact_way", method="POST")
def del_contact_way(state, call):
    """Delete a contact-me configuration: its code adds no one any more."""
    way = _way(state, call.body, "contact")
    del _desk(state).ways[way.config_id]
    return {}


# -- group join codes --------------------------------------------------------------------------------

def _join_settings(state, body):
    """Checked settings of add/update_join_way."""
    chats = body.get("chat_id_list") or []
    if body.get("scene") != 2 or not isinstance(chats, list) or not 1 <= len(chats) <= MAX_CHATS:
        raise ApiError(40058)
    for chat_id in chats:
        state.world.group(chat_id)  # 40050 for an unknown group
    base_id = body.get("room_base_id") or 1
    return {"scene": 2, "remark": _text(body, "remark", 30),
            "auto_create_room": 1 if body.get("auto_create_room") else 0,
            "room_base_name": _text(body, "room_base_name", 40), "room_base_id": base_id if is_int(base_id) else 1,
            "chat_id_list": list(chats), "state": _text(body, "state", 30)}


@endpoint("externalcontact/groupchat/add_join_way", method="POST")
def add_join_way(state, call):
    """A new join configuration; the QR code comes with get_join_way."""
    config_id = secrets.token_hex(16)
    _desk(state).ways[config_id] = Way(config_id, "group", _join_settings(state, call.body))
    return {"config_id": config_id}


@endpoint("externalcontact/groupchat/get_join_way", method="POST")
def get_join_way(state, call):
    """One join configuration with its QR code."""
    way = _way(state, call.body, "group")
    return {"join_way": {"config_id": way.config_id, **way.settings, "qr_code": qr_url(way.config_id)}}


@endpoint("externalcontact/groupchat/update_join_way", method="POST")
def update_join_way(state, call):
    """Change a join configuration."""
    way = _way(state, call.body, "group")
    way.settings = _join_settings(state, {**way.settings, **call.body})
    return {}


@endpoint("externalcontact/groupchat/del_join_way", method="POST")
def del_join_way(state, call):
    """Delete a join configuration."""
    way = _way(state, call.body, "group")
    del _desk(state).ways[way.config_id]
    return {}


# -- the welcome -------------------------------------------------------------------------------------

@endpoint("externalcontact/send_welcome_msg", method="POST")
def send_welcome_msg(state, call):
    """The welcome of one add: 41096 past 20 s or for a code never issued, 41051 once one was sent."""
    body = call.body
    code = _desk(state).codes.get(body.get("welcome_code"))
    if code is None or state.now() - code.issued_at > WELCOME_SECONDS:
        raise ApiError(41096)
    if code.used:
        raise ApiError(41051)
    text = (body.get("text") or {}).get("content", "") if isinstance(body.get("text"), dict) else ""
    attachments = body.get("attachments") or []
    if not text and not attachments:
        raise ApiError(40058)
    code.used = True
    key = f"contact:{code.external_userid}"
    message = {"kind": "welcome", "userid": code.userid, "chat": key, "text": text,
               "attachments": attachments, "at": state.now()}
    _desk(state).welcomes[key] = message
    state.recorder.record_message(message)
    return {}


# -- the prospect who scans ----------------------------------------------------------------------------

def scan(state, config_id, name=None, external_userid=None):
    """Someone scans a code: they add a member, or join a group; returns what happened."""
    with state.lock:
        way = _desk(state).ways.get(config_id)
        if way is None:
            raise ValueError("这个二维码已失效")
        person = _person(state.world, name, external_userid)
        if way.kind == "contact":
            return _add(state, way, person)
        return _join(state, way, person)


def _person(world, name, external_userid):
    """The WeChat user who scans: someone known, or a new one."""
    if external_userid:
        return world.external(external_userid)
    name = name or secrets.choice(SURNAMES) + secrets.choice(GIVEN)
    person = External(world.new_id("wm"), name, 1, 0, "o" + secrets.token_urlsafe(21)[:27])
    world.add_external(person)
    return person


def _add(state, way, person):
    """The scanner adds the code's member (several members take turns)."""
    users = way.settings["user"]
    userid = users[next(way.turn) % len(users)]
    state.world.add_follow(Follow(userid, person.external_userid, createtime=int(state.now()), add_way=1,
                                  state=way.settings["state"], oper_userid=person.external_userid))
    return {"kind": "contact", "userid": userid, "external_userid": person.external_userid}


def _join(state, way, person):
    """The scanner joins the first group with room, or the next group made when all are full."""
    world, settings = state.world, way.settings
    chat_id = next((c for c in settings["chat_id_list"] if c in world.groups
                    and _externals(world.groups[c]) < way.capacity), None)
    created = None
    if chat_id is None:
        if not settings["auto_create_room"]:
            raise ValueError("群已满")
        created = chat_id = _next_room(state, way)
    world.add_group_member(chat_id, Member(person.external_userid, 2, int(state.now()), 3,
                                           state=settings["state"]))
    return {"kind": "group", "chat_id": chat_id, "created": created, "external_userid": person.external_userid}


def _externals(group):
    """How many external members a group has."""
    return sum(1 for m in group.members if m.type == 2)


def _next_room(state, way):
    """A new group like the code's last one (same owner), named room_base_name + the next number."""
    settings, world = way.settings, state.world
    last = world.group(settings["chat_id_list"][-1])
    number = settings["room_base_id"] + len(settings["chat_id_list"])
    name = f"{settings['room_base_name'] or last.name}{number}"
    now = int(state.now())
    group = Group(world.new_id("wr"), name, last.owner, now, "", [Member(last.owner, 1, now, 1)], [])
    world.add_group(group)
    settings["chat_id_list"] = (settings["chat_id_list"] + [group.chat_id])[-MAX_CHATS:]
    return group.chat_id


# -- HTTP: the QR image, the admin switch, the page --------------------------------------------------

@bp.get("/qr/<config_id>.png")
def qr_image(config_id):
    """A code's QR image (a real QR code of a link that names it)."""
    state = current_state()
    with state.lock:
        if config_id not in _desk(state).ways:
            abort(404)
    buffer = io.BytesIO()
    segno.make(f"https://work.weixin.qq.com/ca/{config_id}", error="m").save(buffer, kind="png", scale=8, border=2)
    return Response(buffer.getvalue(), mimetype="image/png")


@bp.post("/_admin/scan")
def admin_scan():
    """{"config_id", "name"?, "external_userid"?, "wait"?}: a prospect scans; waits for the callbacks."""
    body = json_body()
    state = current_state()
    before = state.callbacks.count
    try:
        result = scan(state, body.get("config_id"), body.get("name"), body.get("external_userid"))
    except (ValueError, WorldError) as error:
        return bad_request(str(error))
    if body.get("wait", True) is not False:
        state.callbacks.wait_idle(WAIT_SECONDS)
    return jsonify(ok=True, result=result, callbacks=state.callbacks.deliveries(after=before))


@bp.post("/_admin/ways/capacity")
def set_capacity():
    """{"config_id", "capacity"}: how many external members count as full for this join code."""
    body = json_body()
    way = _desk(current_state()).ways.get(body.get("config_id"))
    if way is None or not is_int(body.get("capacity")) or body["capacity"] < 0:
        return bad_request("config_id of a join code and a capacity ≥ 0 required")
    way.capacity = body["capacity"]
    return jsonify(ok=True)


@bp.get("/acquisition")
def codes_page():
    """The codes the app made, each with a button to scan it as a new prospect."""
    state = current_state()
    with state.lock:
        ways = [(way, _label(state.world, way)) for way in _desk(state).ways.values()]
    return render_template("emulator/acquisition.html", ways=ways, notice=request.args.get("notice", "")[:300])


def _label(world, way):
    """Who a code adds, or which groups it fills."""
    if way.kind == "contact":
        return "添加 " + "、".join(world.display_name(u) for u in way.settings["user"])
    return "加入 " + "、".join(world.groups[c].name for c in way.settings["chat_id_list"] if c in world.groups)


@bp.post("/acquisition/scan")
def scan_from_page():
    """A prospect scans from the page; then the chat they landed in, once the app had time for the welcome."""
    state = current_state()
    try:
        result = scan(state, request.form.get("config_id"), (request.form.get("name") or "").strip()[:20] or None)
    except (ValueError, WorldError) as error:
        return redirect(url_for(".codes_page", notice=f"未能扫码：{error}"), 303)
    state.callbacks.wait_idle(WAIT_SECONDS)
    time.sleep(APP_PROCESSING_SECONDS)  # the app's worker sends the welcome and records the channel
    if result["kind"] == "contact":
        back = {"userid": result["userid"], "chat": f"contact:{result['external_userid']}"}
    else:
        back = {"userid": state.world.group(result["chat_id"]).owner, "chat": f"group:{result['chat_id']}"}
    return redirect(url_for("client.show") + "?" + urlencode(back), 303)


# -- the demo: codes the app's database already holds, in a freshly seeded emulator -------------------

def restore_codes(app, codes):
    """Register codes again ([(config_id, kind, settings, {chat_id: [member ids who came through it]})]) and
    give those members the code's state, as WeCom keeps both across the demo's restarts."""
    state = app.extensions[EXTENSION]
    with state.lock:
        for config_id, kind, settings, joined in codes:
            _desk(state).ways[config_id] = Way(config_id, kind, dict(settings))
            for chat_id, member_ids in joined.items():
                group = state.world.groups.get(chat_id)
                for member in group.members if group else ():
                    if member.userid in member_ids:
                        member.state = settings["state"]
