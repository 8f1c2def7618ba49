"""Changing the world at run time, and the callbacks that tell the app about it.

JSON under /_admin for tests (`POST /_admin/change {"action": ...}`), and a form endpoint for the
simulated client's "模拟客户操作" panel. Each change is one of the World's change methods, so it
sends exactly the callback WeCom would send; the answer waits until that callback was delivered.
"""
import secrets
import time
from urllib.parse import urlencode

from flask import Blueprint, jsonify, redirect, request, url_for

from .admin import bad_request, is_int, json_body
from .state import current_state
from .world import External, Follow, Group, Member, WorldError

bp = Blueprint("changes", __name__)
WAIT_SECONDS = 5
APP_PROCESSING_SECONDS = 3
SWITCHES = {"drop": int, "duplicate": bool, "delay": (int, float), "hold": bool}


class BadChange(ValueError):
    """The change request is incomplete or refused by the world."""


# -- the changes -----------------------------------------------------------------------------------

def _need(args, *names):
    """The named arguments as strings, or BadChange naming the first missing one."""
    values = []
    for name in names:
        value = args.get(name)
        if not isinstance(value, str) or not value.strip():
            raise BadChange(f"{name} is required")
        values.append(value.strip())
    return values


def add_follow(world, args, now):
    """A client adds an advisor (an existing external user by id, or a new one by name)."""
    (userid,) = _need(args, "userid")
    external_userid = args.get("external_userid")
    if not external_userid:
        (name,) = _need(args, "name")
        person = External(world.new_id("wm"), name, 1, 0, "o" + secrets.token_urlsafe(21)[:27])
        world.add_external(person)
        external_userid = person.external_userid
    relation = Follow(userid, external_userid, args.get("remark") or "", args.get("description") or "",
                      int(now), [], [], list(args.get("remark_mobiles") or []), int(args.get("add_way") or 1),
                      args.get("state") or "", external_userid)
    world.add_follow(relation)
    return {"external_userid": external_userid}


def remove_follow(world, args, now):
    """The advisor deletes the client (by=advisor) or the client deletes the advisor (by=client)."""
    userid, external_userid = _need(args, "userid", "external_userid")
    world.remove_follow(userid, external_userid, by=args.get("by") or "advisor")
    return {}


def edit_follow(world, args, now):
    """The advisor edits remark, description or noted mobiles."""
    userid, external_userid = _need(args, "userid", "external_userid")
    changes = {name: args[name] for name in ("remark", "description", "remark_mobiles") if name in args}
    if not changes:
        raise BadChange("remark, description or remark_mobiles is required")
    world.edit_follow(userid, external_userid, **changes)
    return {}


def mark_tag(world, args, now):
    """The advisor tags the client in WeCom (corp tag ids to add and remove)."""
    userid, external_userid = _need(args, "userid", "external_userid")
    world.mark_tag(userid, external_userid, add=list(args.get("add") or []), remove=list(args.get("remove") or []))
    return {}


def add_tag(world, args, now):
    """An admin creates a corp tag in a group (by name)."""
    group_name, name = _need(args, "group_name", "name")
    _, created = world.add_corp_tags([name], group_name=group_name, now=now)
    return {"tag_id": created[0].id}


def rename_tag(world, args, now):
    """An admin renames a corp tag."""
    tag_id, name = _need(args, "tag_id", "name")
    world.rename_tag(tag_id, name)
    return {}


def delete_tag(world, args, now):
    """An admin deletes a corp tag."""
    (tag_id,) = _need(args, "tag_id")
    world.delete_tag(tag_id)
    return {}


def create_group(world, args, now):
    """A staff member creates a customer group with some members."""
    owner, name = _need(args, "owner", "name")
    members = [Member(owner, 1, int(now), 1)]
    for userid in args.get("members") or []:
        kind = 1 if userid in world.staff else 2
        world.staff_member(userid) if kind == 1 else world.external(userid)
        members.append(Member(userid, kind, int(now), 1, owner))
    group = Group(world.new_id("wr"), name, owner, int(now), args.get("notice") or "", members, [])
    world.add_group(group)
    return {"chat_id": group.chat_id}


def dismiss_group(world, args, now):
    """The owner dismisses a group."""
    (chat_id,) = _need(args, "chat_id")
    world.dismiss_group(chat_id)
    return {}


def join_group(world, args, now):
    """Someone joins a group (type 1 staff, 2 external; a new external user when only a name is given)."""
    (chat_id,) = _need(args, "chat_id")
    userid = args.get("userid")
    if not userid:
        (name,) = _need(args, "name")
        person = External(world.new_id("wm"), name, 1, 0, "")
        world.add_external(person)
        userid = person.external_userid
    kind = 1 if userid in world.staff else 2
    world.add_group_member(chat_id, Member(userid, kind, int(now), int(args.get("join_scene") or 3),
                                           args.get("invitor") or ""))
    return {"userid": userid}


def leave_group(world, args, now):
    """Someone leaves a group."""
    chat_id, userid = _need(args, "chat_id", "userid")
    world.remove_group_member(chat_id, userid)
    return {}


def rename_group(world, args, now):
    """The owner renames a group."""
    chat_id, name = _need(args, "chat_id", "name")
    world.rename_group(chat_id, name)
    return {}


def set_notice(world, args, now):
    """The owner changes the group notice."""
    (chat_id,) = _need(args, "chat_id")
    world.set_group_notice(chat_id, args.get("notice") or "")
    return {}


def change_owner(world, args, now):
    """The group is handed to another staff member in it."""
    chat_id, userid = _need(args, "chat_id", "userid")
    world.change_group_owner(chat_id, userid)
    return {}


ACTIONS = {function.__name__: function for function in (
    add_follow, remove_follow, edit_follow, mark_tag, add_tag, rename_tag, delete_tag,
    create_group, dismiss_group, join_group, leave_group, rename_group, set_notice, change_owner)}


def apply_change(state, args, wait=True):
    """Run one change; returns its result and the callbacks it caused (delivered, unless wait is off)."""
    action = ACTIONS.get(args.get("action"))
    if action is None:
        raise BadChange(f"action must be one of {', '.join(sorted(ACTIONS))}")
    with state.lock:
        before = state.callbacks.count
        try:
            result = action(state.world, args, state.now())
        except (WorldError, KeyError) as error:
            raise BadChange(f"{type(error).__name__}: {error}") from None
    if wait:
        state.callbacks.wait_idle(WAIT_SECONDS)
    return result, state.callbacks.deliveries(after=before)


# -- JSON for tests ------------------------------------------------------------------------------------

@bp.post("/_admin/change")
def change():
    """Change the world: {"action": ..., ...arguments}; "wait": false answers before delivery."""
    body = json_body()
    try:
        result, deliveries = apply_change(current_state(), body, wait=body.get("wait", True) is not False)
    except ValueError as error:  # BadChange, and the world's own ValueErrors
        return bad_request(str(error))
    return jsonify(ok=True, result=result, callbacks=deliveries)


@bp.post("/_admin/synthetic")
def add_synthetic():
    """Add {"contacts": N} generated contacts (no callbacks), for large-world tests."""
    count = json_body().get("contacts")
    if not is_int(count) or not 1 <= count <= 200_000:
        return bad_request("contacts must be an integer from 1 to 200000")
    state = current_state()
    return jsonify(added=state.world.add_synthetic_contacts(count, state.now()))


@bp.get("/_admin/callback")
def show_callback():
    """Where callbacks go (the key is not shown) and the switches."""
    sender = current_state().callbacks
    target = sender.target
    return jsonify(url=target.url if target else None, switches=sender.switches.as_json())


@bp.post("/_admin/callback")
def set_callback():
    """Send callbacks to {"url", "token", "aes_key"}; "verify": true first checks the URL like WeCom."""
    body = json_body()
    missing = [name for name in ("url", "token", "aes_key") if not isinstance(body.get(name), str) or not body[name]]
    if missing:
        return bad_request(f"{', '.join(missing)} required")
    if len(body["aes_key"]) != 43:
        return bad_request("aes_key must be a 43-character EncodingAESKey")
    sender = current_state().callbacks
    sender.configure(body["url"], body["token"], body["aes_key"])
    verified = sender.verify_url() if body.get("verify") else None
    return jsonify(ok=True, verified=verified)


@bp.delete("/_admin/callback")
def clear_callback():
    """Stop sending callbacks."""
    current_state().callbacks.target = None
    return jsonify(ok=True)


@bp.post("/_admin/callback/switches")
def set_switches():
    """{"drop": N (-1: all), "duplicate": bool, "delay": seconds, "hold": bool}."""
    body = json_body()
    problems = [name for name, kind in SWITCHES.items() if name in body and
                (not isinstance(body[name], kind) or (kind is int and isinstance(body[name], bool)))]
    if problems or not set(body) <= set(SWITCHES) or not body:
        return bad_request(f"expected some of {', '.join(SWITCHES)} with the right types")
    return jsonify(current_state().callbacks.set_switches(**body))


@bp.post("/_admin/callback/release")
def release():
    """Send the held callbacks: {"order": "fifo"} or "reverse"; waits for their delivery."""
    order = json_body().get("order", "fifo")
    if order not in ("fifo", "reverse"):
        return bad_request("order must be fifo or reverse")
    sender = current_state().callbacks
    released = sender.release(order)
    sender.wait_idle(WAIT_SECONDS)
    return jsonify(released=released)


@bp.post("/_admin/callback/wait")
def wait():
    """Wait until every queued callback has been delivered."""
    return jsonify(idle=current_state().callbacks.wait_idle(WAIT_SECONDS))


@bp.get("/_admin/callbacks")
def show_deliveries():
    """Every callback since the last reset, with what the app answered."""
    return jsonify(callbacks=current_state().callbacks.deliveries())


# -- the simulated client's form -------------------------------------------------------------------

FORM_LISTS = ("add", "remove", "members")


@bp.post("/client/change")
def change_from_client():
    """A change made in the simulated client; back to the same chat, saying which callbacks went out."""
    form = {key: value for key, value in request.form.items() if value.strip()}
    for name in FORM_LISTS:
        if name in request.form:
            form[name] = request.form.getlist(name)
    back = {"userid": form.get("viewer", ""), "chat": form.get("chat", "")}
    try:
        _, deliveries = apply_change(current_state(), form)
        back["notice"] = _summary(deliveries)
    except ValueError as error:
        back["notice"] = f"未能修改：{error}"
    # The app answers first; its worker processes the callback once the event's second is over (taking
    # it from the queue within another second or so): give it that long, so the sidebar that reloads
    # with the page shows the change.
    time.sleep(APP_PROCESSING_SECONDS)
    return redirect(url_for("client.show") + "?" + urlencode(back), 303)


def _summary(deliveries):
    """One line about the callbacks a change caused."""
    if not deliveries:
        return "已修改（企业微信不会为这类修改发送回调）"
    parts = []
    for item in deliveries:
        kind = item.get("ChangeType", "")
        detail = f"/{item['UpdateDetail']}" if item.get("UpdateDetail") else ""
        answers = ",".join(str(a) for a in item["answers"]) or item["status"]
        parts.append(f"{item['Event']} {kind}{detail} → {answers}")
    return "已发送回调：" + "；".join(parts)
