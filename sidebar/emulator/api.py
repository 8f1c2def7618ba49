"""The WeCom server API (wecom.md §2) under /cgi-bin, answered from the world.

Every known path answers HTTP 200 with JSON carrying errcode and errmsg, like WeCom; the
`down` switch makes every call answer 503 with an HTML body, like a gateway in trouble.
"""
import base64
import hmac
import json
import time
from dataclasses import dataclass

from flask import Blueprint, Response, jsonify, request, url_for

from . import appmessage
from .credentials import TICKET_FETCH_LIMIT
from .media import MediaRejected
from .state import current_state
from .world import WorldError

bp = Blueprint("api", __name__, url_prefix="/cgi-bin")

ERRMSG = {
    40008: "invalid message type",
    44004: "empty content",
    -1: "system busy",
    40001: "invalid credential",
    40004: "invalid media type",
    40005: "invalid file type",
    40006: "invalid file size",
    40009: "invalid image size",
    40011: "invalid video size",
    40013: "invalid corpid",
    40014: "invalid access_token",
    40029: "invalid code",
    40050: "chatid not found",
    40056: "invalid agentid",
    40058: "invalid Request Parameter",
    40068: "invalid tagid",
    40071: "tag name already exists",
    40096: "invalid external userid",
    41001: "access_token missing",
    41002: "corpid missing",
    41004: "corpsecret missing",
    41005: "media data missing",
    41008: "missing code",
    41009: "missing userid",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    44001: "empty media data",
    45009: "api freq out of limit",
    45033: "api concurrent out of limit",
    47001: "data format error",
    48002: "api forbidden",
    60011: "no privilege to access/modify contact/party/agent",
    60020: "not allow to access from your ip",
    60111: "userid not found",
    81013: "user & party & tag all invalid",
    84061: "not external contact",
}
SECRET_PARAMS = {"corpsecret", "access_token"}
UNAVAILABLE = "<html><head><title>503 Service Temporarily Unavailable</title></head>" \
              "<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
ENDPOINTS = {}


class ApiError(Exception):
    """Answer this WeCom errcode."""

    def __init__(self, errcode):
        super().__init__(errcode)
        self.errcode = errcode


@dataclass(frozen=True)
class Endpoint:
    """How an API path is called and who answers it."""

    method: str
    handler: object
    needs_token: bool


@dataclass
class Call:
    """One request's inputs: query string, JSON body (None when unreadable) and uploaded files."""

    query: dict
    body: dict | None
    files: object

    def loggable(self):
        """Its parameters for the call log, without secrets or file contents."""
        params = {k: v for k, v in self.query.items() if k not in SECRET_PARAMS}
        params.update(self.body or {})
        for name, upload in self.files.items():
            params[name] = {"filename": upload.filename, "content_type": upload.mimetype}
        return params


def endpoint(path, method="GET", token=True):
    """Register a handler(state, call) -> dict of answer fields for an API path."""
    def register(handler):
        ENDPOINTS["/cgi-bin/" + path] = Endpoint(method, handler, token)
        return handler
    return register


def fail(errcode):
    """WeCom's error answer; errmsg carries a hint like the real one, so never compare it."""
    text = ERRMSG.get(errcode, "emulated error")
    hint = f"{text}, hint: [{int(time.time())}-emulator], " \
           f"more info at https://open.work.weixin.qq.com/devtool/query?e={errcode}"
    return {"errcode": errcode, "errmsg": hint}


@bp.route("/<path:name>", methods=["GET", "POST"])
def answer(name):
    """Answer one server-API call the way WeCom does, after logging it and applying faults."""
    state = current_state()
    path = "/cgi-bin/" + name
    call = read_call()
    with state.lock:
        state.recorder.record_call(path, call.loggable(), state.now())
        down, delay = state.faults.down, state.faults.delay
        payload = None if down else respond(state, path, call)
    if delay:
        time.sleep(delay)  # outside the lock: a slow WeCom must not stall other callers
    if down:
        return Response(UNAVAILABLE, 503, mimetype="text/html")
    if payload is None:
        return jsonify(errcode=-1, errmsg=f"the emulator has no API {path}"), 404
    return jsonify(payload)


def read_call():
    """Parse the request before taking the lock (uploads can be large)."""
    body = {}
    if request.method == "POST" and not request.files and request.get_data():
        try:
            body = json.loads(request.get_data())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = None
    return Call(request.args.to_dict(), body, request.files)


def respond(state, path, call):
    """The JSON answer to a call on a known path; None for an unknown path."""
    errcode = state.faults.take(path)
    if errcode is not None:
        return fail(errcode)
    api = ENDPOINTS.get(path)
    if api is None:
        return None
    if request.method != api.method:
        return fail(43001 if api.method == "GET" else 43002)
    if api.needs_token:
        errcode = state.credentials.token_errcode(call.query.get("access_token"), state.now())
        if errcode:
            return fail(errcode)
    if call.body is None:
        return fail(47001)
    try:
        return {"errcode": 0, "errmsg": "ok", **api.handler(state, call)}
    except (ApiError, WorldError, MediaRejected) as error:
        return fail(error.errcode)


# -- paging ------------------------------------------------------------------------------


def page(items, cursor, limit):
    """One page of a list and the cursor of the next ('' at the end). Cursors are opaque."""
    start = decode_cursor(cursor)
    end = start + limit
    return items[start:end], (encode_cursor(end) if end < len(items) else "")


def encode_cursor(offset):
    """An opaque cursor for a list offset."""
    return base64.urlsafe_b64encode(f"o{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor):
    """The offset of a cursor from encode_cursor; 40058 for anything else."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        offset = int(text[1:]) if text[:1] == "o" else -1
    except ValueError:
        offset = -1
    if offset < 0:
        raise ApiError(40058)
    return offset


def limit_of(body, default, maximum, required=False):
    """The `limit` field, checked against WeCom's range."""
    value = body.get("limit", None if required else default)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= maximum:
        raise ApiError(40058)
    return value


# -- JSON shapes -------------------------------------------------------------------------


def avatar_url(userid):
    """An avatar the emulator draws, as an absolute URL like WeCom's."""
    return url_for("client.draw_avatar", userid=userid, _external=True)


def external_contact_json(person):
    """`external_contact` of externalcontact/get and batch/get_by_user."""
    data = {"external_userid": person.external_userid, "name": person.name,
            "avatar": avatar_url(person.external_userid), "type": person.type, "gender": person.gender}
    if person.type == 1:
        data["unionid"] = person.unionid
    else:
        data.update(position=person.position, corp_name=person.corp_name, corp_full_name=person.corp_full_name)
    return data


def follow_fields(relation):
    """The fields a follow relation shares in both answers."""
    data = {"userid": relation.userid, "remark": relation.remark, "description": relation.description,
            "createtime": relation.createtime, "remark_corp_name": "",
            "remark_mobiles": list(relation.remark_mobiles), "oper_userid": relation.oper_userid,
            "add_way": relation.add_way}
    if relation.state:
        data["state"] = relation.state
    return data


def follow_user_json(world, relation):
    """One `follow_user` entry of externalcontact/get, with corp and personal tags."""
    tags = []
    for tag_id in relation.tag_ids:
        group, tag = world.tag(tag_id)
        tags.append({"group_name": group.name, "tag_name": tag.name, "type": 1, "tag_id": tag.id})
    # WeCom sends no tag_id for personal tags.
    tags += [{"group_name": g, "tag_name": t, "type": 2} for g, t in relation.personal_tags]
    return {**follow_fields(relation), "tags": tags}


def follow_info_json(relation):
    """`follow_info` of batch/get_by_user: corp tag ids only."""
    return {**follow_fields(relation), "tag_id": list(relation.tag_ids)}


def member_json(world, member, need_name):
    """One `member_list` entry of groupchat/get."""
    data = {"userid": member.userid, "type": member.type, "join_time": member.join_time,
            "join_scene": member.join_scene, "group_nickname": member.group_nickname}
    if member.type == 2:
        person = world.external(member.userid)
        if person.unionid:
            data["unionid"] = person.unionid
    if member.invitor:
        data["invitor"] = {"userid": member.invitor}
    if member.state:
        data["state"] = member.state
    if need_name:
        data["name"] = world.display_name(member.userid)
    return data


def tag_group_json(group, tags):
    """One `tag_group` of get_corp_tag_list / add_corp_tag."""
    return {"group_id": group.group_id, "group_name": group.name, "create_time": group.create_time,
            "order": group.order,
            "tag": [{"id": t.id, "name": t.name, "create_time": t.create_time, "order": t.order} for t in tags]}


# -- access and identity -----------------------------------------------------------------


@endpoint("gettoken", token=False)
def get_token(state, call):
    """corpid + corpsecret → access_token."""
    corpid, secret = call.query.get("corpid"), call.query.get("corpsecret")
    if not corpid:
        raise ApiError(41002)
    if corpid != state.corp_id:
        raise ApiError(40013)
    if not secret:
        raise ApiError(41004)
    if not hmac.compare_digest(secret.encode(), state.secret.encode()):
        raise ApiError(40001)
    lease = state.credentials.issue("token", state.now())
    return {"access_token": lease.value, "expires_in": lease.remaining(state.now())}


def ticket_answer(state, kind):
    """A jsapi ticket of a kind, within WeCom's hourly fetch limit."""
    if state.credentials.count_fetch(kind, state.now()) > TICKET_FETCH_LIMIT:
        raise ApiError(45009)
    lease = state.credentials.issue(kind, state.now())
    return {"ticket": lease.value, "expires_in": lease.remaining(state.now())}


@endpoint("get_jsapi_ticket")
def get_jsapi_ticket(state, call):
    """The corp jsapi_ticket (for `config`)."""
    return ticket_answer(state, "corp")


@endpoint("ticket/get")
def get_agent_ticket(state, call):
    """The agent ticket (for `agentConfig`)."""
    if call.query.get("type") != "agent_config":
        raise ApiError(40058)
    return ticket_answer(state, "agent")


@endpoint("auth/getuserinfo")
def get_user_info(state, call):
    """OAuth code → userid (member) or openid/external_userid (outsider). Codes work once."""
    code = call.query.get("code")
    if not code:
        raise ApiError(41008)
    grant = state.credentials.redeem_code(code, state.now())
    if grant is None:
        raise ApiError(40029)
    if grant.userid is None:
        return {"openid": "oOUTSIDER" + code[:20], "external_userid": "wmOUTSIDER" + code[:20]}
    answer = {"userid": grant.userid}
    if grant.scope == "snsapi_privateinfo":
        answer.update(user_ticket="ut" + code, expires_in=1800)
    return answer


@endpoint("user/get")
def get_user(state, call):
    """One staff member."""
    userid = call.query.get("userid")
    if not userid:
        raise ApiError(41009)
    member = state.world.staff_member(userid)
    return {"userid": member.userid, "name": member.name, "department": list(member.department),
            "main_department": member.department[0], "position": member.position,
            "gender": str(member.gender), "avatar": avatar_url(member.userid),
            "thumb_avatar": avatar_url(member.userid), "status": 1}


# -- external contacts -------------------------------------------------------------------


@endpoint("externalcontact/get_follow_user_list")
def get_follow_user_list(state, call):
    """Members configured for customer contact."""
    return {"follow_user": state.world.follow_users()}


@endpoint("externalcontact/list")
def list_contacts(state, call):
    """External userids a member follows; 84061 when there are none."""
    userid = call.query.get("userid")
    if not userid:
        raise ApiError(41009)
    state.world.staff_member(userid)
    contacts = state.world.contacts_of(userid)
    if not contacts:
        raise ApiError(84061)
    return {"external_userid": contacts}


@endpoint("externalcontact/get")
def get_contact(state, call):
    """One contact and every member who follows it (the follow_user page cursor is ignored)."""
    world = state.world
    person = world.external(call.query.get("external_userid", ""))
    relations = world.followers_of(person.external_userid)
    if not relations:
        raise ApiError(84061)
    return {"external_contact": external_contact_json(person),
            "follow_user": [follow_user_json(world, r) for r in relations], "next_cursor": ""}


@endpoint("externalcontact/batch/get_by_user", method="POST")
def batch_get_by_user(state, call):
    """Contacts of up to 100 members with their follow_info, paged by cursor."""
    world = state.world
    userids = call.body.get("userid_list")
    if not isinstance(userids, list) or not 1 <= len(userids) <= 100:
        raise ApiError(40058)
    limit = limit_of(call.body, default=50, maximum=100)
    relations = [world.follows[(u, ext)] for u in dict.fromkeys(userids) if u in world.staff
                 for ext in world.contacts_of(u)]
    chunk, next_cursor = page(relations, call.body.get("cursor"), limit)
    items = [{"external_contact": external_contact_json(world.external(r.external_userid)),
              "follow_info": follow_info_json(r)} for r in chunk]
    return {"external_contact_list": items, "next_cursor": next_cursor}


# -- groups ------------------------------------------------------------------------------


@endpoint("externalcontact/groupchat/list", method="POST")
def list_groups(state, call):
    """Group chat ids, filtered by status and owner, paged by cursor (limit 1..1000)."""
    limit = limit_of(call.body, default=None, maximum=1000, required=True)
    status = call.body.get("status_filter", 0)
    owners = (call.body.get("owner_filter") or {}).get("userid_list") or []
    groups = [g for g in state.world.groups.values()
              if (not owners or g.owner in owners) and (status == 0 or g.status == status)]
    chunk, next_cursor = page(groups, call.body.get("cursor"), limit)
    return {"group_chat_list": [{"chat_id": g.chat_id, "status": g.status} for g in chunk],
            "next_cursor": next_cursor}


@endpoint("externalcontact/groupchat/get", method="POST")
def get_group(state, call):
    """One group with its members and admins (names with need_name=1)."""
    world = state.world
    group = world.group(call.body.get("chat_id") or "")
    need_name = call.body.get("need_name") in (1, "1", True)
    return {"group_chat": {
        "chat_id": group.chat_id, "name": group.name, "owner": group.owner,
        "create_time": group.create_time, "notice": group.notice,
        "member_list": [member_json(world, m, need_name) for m in group.members],
        "admin_list": [{"userid": a} for a in group.admins],
        "member_version": world.member_version(group),
    }}


# -- tags --------------------------------------------------------------------------------


@endpoint("externalcontact/get_corp_tag_list", method="POST")
def get_corp_tags(state, call):
    """Corp tag groups; `group_id` filters groups, else `tag_id` filters tags, else everything."""
    group_ids = call.body.get("group_id") or []
    tag_ids = call.body.get("tag_id") or []
    result = []
    for group in state.world.tag_groups.values():
        if group_ids:
            tags = group.tags if group.group_id in group_ids else []
        else:
            tags = [t for t in group.tags if not tag_ids or t.id in tag_ids]
        if tags:
            result.append(tag_group_json(group, tags))
    return {"tag_group": result}


@endpoint("externalcontact/add_corp_tag", method="POST")
def add_corp_tag(state, call):
    """New corp tags in a group given by group_id or group_name (created if new)."""
    body = call.body
    names = [t.get("name") for t in body.get("tag") or [] if isinstance(t, dict)]
    if not names or not all(isinstance(n, str) and n.strip() for n in names):
        raise ApiError(40058)
    if not body.get("group_id") and not body.get("group_name"):
        raise ApiError(40058)
    if "agentid" in body and str(body["agentid"]) != state.agent_id:
        raise ApiError(40056)
    group, created = state.world.add_corp_tags(names, group_name=body.get("group_name", ""),
                                               group_id=body.get("group_id", ""), now=state.now(), notify=False)
    return {"tag_group": tag_group_json(group, created)}


@endpoint("externalcontact/mark_tag", method="POST")
def mark_tag(state, call):
    """Add and remove corp tags on a member's contact. WeCom sends no callback for it."""
    body = call.body
    add, remove = body.get("add_tag") or [], body.get("remove_tag") or []
    if not body.get("userid") or not body.get("external_userid") or not (add or remove):
        raise ApiError(40058)
    state.world.mark_tag(body["userid"], body["external_userid"], add=add, remove=remove, notify=False)
    return {}


@endpoint("externalcontact/remark", method="POST")
def remark(state, call):
    """Change a member's remark, description or remark mobiles of a contact; the fields sent are replaced.

    Unlike mark_tag, WeCom may follow it with an edit_external_contact callback (wecom.md §5): sent here.
    """
    body = call.body
    if not body.get("userid") or not body.get("external_userid"):
        raise ApiError(40058)
    changes = {name: body[name] for name in ("remark", "description", "remark_mobiles") if name in body}
    if not all(isinstance(changes.get(name, ""), str) for name in ("remark", "description")) \
            or not isinstance(changes.get("remark_mobiles", []), list):
        raise ApiError(40058)
    if len(changes.get("remark", "")) > 20 or len(changes.get("description", "")) > 150 \
            or len(changes.get("remark_mobiles", [])) > 5:
        raise ApiError(40058)
    state.world.follow(body["userid"], body["external_userid"])  # 84061 when there is no such relation
    if changes:
        state.world.edit_follow(body["userid"], body["external_userid"], **changes)
    return {}


# -- media and messages ------------------------------------------------------------------


@endpoint("media/upload", method="POST")
def upload_media(state, call):
    """Temporary media from the multipart field `media`; the media_id lives 3 days."""
    kind = call.query.get("type", "")
    upload = call.files.get("media")
    if upload is None:
        raise ApiError(41005)
    data = upload.read()
    media = state.media.upload(kind, upload.filename or "", upload.mimetype, data, state.now())
    return {"type": media.type, "media_id": media.media_id, "created_at": str(media.created_at)}


@endpoint("message/send", method="POST")
def send_message(state, call):
    """An app message to staff, recorded for GET /_admin/messages."""
    body = call.body
    if str(body.get("agentid", "")) != state.agent_id:
        raise ApiError(40056)
    if not body.get("msgtype"):
        raise ApiError(40058)
    appmessage.check_message(body)  # text, textcard, template_card … complete
    users = [u for u in (body.get("touser") or "").split("|") if u]
    invalid = [u for u in users if u != "@all" and u not in state.world.staff]
    if users and len(invalid) == len(users) and not body.get("toparty") and not body.get("totag"):
        raise ApiError(81013)
    msgid = f"msg{len(state.recorder.messages) + 1:08d}"
    state.recorder.record_message({"kind": "app", "userid": None, "chat": None, "msgid": msgid,
                                   "touser": [u for u in users if u not in invalid],
                                   "message": body, "at": state.now()})
    return {"invaliduser": "|".join(invalid), "invalidparty": "", "invalidtag": "",
            "unlicenseduser": "", "msgid": msgid}
