"""The simulated WeCom desktop client: the page, the JS-SDK signature check, and what it sends."""
import hashlib

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, url_for
from markupsafe import escape

from .chat import Refused, chats_of, normalize
from .oauth import USER_COOKIE, remember_user
from .state import current_state

bp = Blueprint("client", __name__)
# The page's own scripts are files: it must work under the app's policy of script-src 'self'.
PAGE_CSP = "script-src 'self'; object-src 'none'; base-uri 'self'"
AVATAR_COLORS = ["#3975c6", "#4caf7d", "#e8a23a", "#d9644a", "#8e6bc4", "#3aa6b9", "#c45c8f", "#6b8e23"]


@bp.get("/")
def home():
    """The emulator's front door is the simulated client."""
    return redirect(url_for("client.show"))


@bp.get("/client")
def show():
    """WeCom desktop: advisor picker and chat list, the chat, and the sidebar at 360×640."""
    state = current_state()
    with state.lock:
        advisors = state.world.advisors()
        contact_counts = {a.userid: len(state.world.contacts_of(a.userid)) for a in advisors}
        user = choose_advisor(state, advisors)
        chats = chats_of(state.world, user.userid, state.now())
        departments = [state.world.departments[d].name for d in user.department]
        current = choose_chat(chats, request.args.get("chat"))
        tools = world_tools(state.world, current, user.userid)
    html = render_template("emulator/client.html", state=state, advisors=advisors, user=user,
                           chats=chats, current=current, departments=departments, contact_counts=contact_counts,
                           tools=tools, notice=request.args.get("notice", "")[:500])
    response = remember_user(Response(html), user.userid)
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response


def world_tools(world, chat, userid=None):
    """What the "模拟变更" panel offers for this chat: corp tags for a contact, members for a group; and
    the contact as WeCom now has it for this advisor (what the sidebar wrote through the API shows here)."""
    kind, _, object_id = chat.key.partition(":")
    tags = [(tag.id, f"{group.name} · {tag.name}") for group in world.tag_groups.values() for tag in group.tags]
    if kind == "group" and object_id in world.groups:
        group = world.groups[object_id]
        externals = [(m.userid, world.display_name(m.userid)) for m in group.members if m.type == 2]
        return {"kind": "group", "chat_id": object_id, "externals": externals[-30:], "notice": group.notice}
    if kind == "contact":
        relation = world.follows.get((userid, object_id))
        names = dict(tags)
        record = relation and {"remark": relation.remark, "description": relation.description,
                               "mobiles": list(relation.remark_mobiles),
                               "tags": [names.get(tag_id, tag_id) for tag_id in relation.tag_ids]}
        return {"kind": "contact", "external_userid": object_id, "tags": tags, "record": record}
    return {"kind": "workbench"}


def choose_advisor(state, advisors):
    """The advisor asked for, else the one signed in last, else the first."""
    by_id = {a.userid: a for a in advisors}
    for userid in (request.args.get("userid"), request.cookies.get(USER_COOKIE)):
        if userid in by_id:
            return by_id[userid]
    return advisors[0]


def choose_chat(chats, key):
    """The chat asked for, else the most recent 1:1 chat, else the workbench."""
    for chat in chats:
        if chat.key == key:
            return chat
    return next((c for c in chats if c.entry == "single_chat_tools"), chats[0])


@bp.get("/bridge.js")
def serve_bridge():
    """The WeixinJSBridge for sidebar pages, at a stable address beside the emulator."""
    response = current_app.send_static_file("bridge.js")
    response.cache_control.no_cache = True
    return response


@bp.post("/jsapi/verify")
def verify():
    """Check a config/agentConfig signature against the live tickets, as the WeCom client does."""
    state = current_state()
    data = request.get_json(silent=True)
    with state.lock:
        problem = signature_problem(state, data if isinstance(data, dict) else {})
    return jsonify(ok=False, errmsg=problem) if problem else jsonify(ok=True)


def signature_problem(state, data):
    """Why a signature is refused, or None when a live ticket of its type made it."""
    kind = data.get("type")
    if kind not in ("corp", "agent"):
        return "invalid type"
    if data.get("corpid") != state.corp_id:
        return "invalid corpid"
    if kind == "agent" and str(data.get("agentid", "")) != state.agent_id:
        return "invalid agentid"
    fields = [str(data.get(name) or "") for name in ("nonceStr", "timestamp", "url", "signature")]
    if not all(fields) or not state.credentials.signature_matches(kind, *fields, state.now()):
        return "invalid signature"
    return None


@bp.post("/client/messages")
def send():
    """A message the sidebar put in the open chat (reported by client.js); refused payloads fail."""
    state = current_state()
    data = request.get_json(silent=True)
    data = data if isinstance(data, dict) else {}
    with state.lock:
        try:
            record = chat_message(state, data)
        except Refused as refusal:
            return jsonify(ok=False, errmsg=str(refusal))
    return jsonify(ok=True, message=record)


def chat_message(state, data):
    """Validate and record one chat message of an advisor's open chat."""
    userid, key = data.get("userid"), data.get("chat")
    chats = {c.key for c in chats_of(state.world, userid, state.now()) if c.entry != "normal"}
    if key not in chats:
        raise Refused("without context of external contact")
    message = normalize(data.get("message"), lambda media_id: state.media.get(media_id, state.now()))
    record = {"kind": "chat", "userid": userid, "chat": key, "message": message, "at": state.now()}
    return state.recorder.record_message(record)


@bp.get("/media/<media_id>")
def show_media(media_id):
    """The bytes of a live upload, so the chat can show an image the way WeCom does."""
    state = current_state()
    with state.lock:
        item = state.media.get(media_id, state.now())
    if item is None:
        abort(404)
    return Response(item.data, mimetype=item.content_type or "application/octet-stream")


@bp.get("/avatars/<userid>.svg")
def draw_avatar(userid):
    """A WeCom-style text avatar for a staff member, contact or group."""
    world = current_state().world
    with world.lock:
        group = world.groups.get(userid)
        name = group.name if group else world.display_name(userid)
    label = "群" if group else avatar_label(name)
    color = AVATAR_COLORS[hashlib.md5(userid.encode()).digest()[0] % len(AVATAR_COLORS)]
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="80" height="80" viewBox="0 0 80 80">'
           f'<rect width="80" height="80" rx="8" fill="{color}"/>'
           f'<text x="40" y="50" font-size="{28 if len(label) > 1 else 34}" text-anchor="middle" fill="#fff" '
           f'font-family="Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif">{escape(label)}</text></svg>')
    response = Response(svg, mimetype="image/svg+xml")
    response.cache_control.max_age = 86400
    return response


def avatar_label(name):
    """Chinese names show their last two characters, others their first letter."""
    if not name:
        return "?"
    if "\u4e00" <= name[0] <= "\u9fff":
        return name[-2:]
    return name[0].upper()
