"""Test switches under /_admin (JSON, no auth: the emulator is for development and tests only)."""
from flask import Blueprint, jsonify, request

from .state import current_state

bp = Blueprint("admin", __name__, url_prefix="/_admin")
MAX_DELAY = 30


def bad_request(reason):
    """A 400 answer naming what was wrong."""
    return jsonify(error=reason), 400


def json_body():
    """The request's JSON object, or {} when there is none."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


@bp.post("/reset")
def reset():
    """Clear faults, call log and messages; set the clock back to real time. The world stays."""
    current_state().reset()
    return jsonify(ok=True)


@bp.get("/faults")
def show_faults():
    """The current switches."""
    state = current_state()
    with state.lock:
        return jsonify(state.faults.as_json())


@bp.post("/faults")
def set_faults():
    """Flip switches: expire_tokens, errcode (+path, count), down, delay."""
    state = current_state()
    body = json_body()
    problem = fault_problem(body)
    if problem:
        return bad_request(problem)
    with state.lock:
        if body.get("expire_tokens"):
            state.credentials.expire_all()
        if "errcode" in body:
            state.faults.add(body["errcode"], body.get("path"), body.get("count"), body.get("after", 0))
        if "down" in body:
            state.faults.down = bool(body["down"])
        if "delay" in body:
            state.faults.delay = float(body["delay"])
        return jsonify(state.faults.as_json())


def fault_problem(body):
    """Why a faults request is malformed, or None."""
    if not body:
        return "expected a JSON object with expire_tokens, errcode, down or delay"
    if "errcode" in body and not is_int(body["errcode"]):
        return "errcode must be an integer"
    path = body.get("path")
    if path is not None and not (isinstance(path, str) and path.startswith("/cgi-bin/")):
        return "path must look like /cgi-bin/gettoken"
    count = body.get("count")
    if count is not None and not (is_int(count) and count > 0):
        return "count must be a positive integer"
    if not (is_int(body.get("after", 0)) and body.get("after", 0) >= 0):
        return "after must be a number of calls to let through first"
    delay = body.get("delay", 0)
    if not isinstance(delay, (int, float)) or isinstance(delay, bool) or not 0 <= delay <= MAX_DELAY:
        return f"delay must be between 0 and {MAX_DELAY} seconds"
    return None


def is_int(value):
    """Whether a JSON value is an integer (not a boolean)."""
    return isinstance(value, int) and not isinstance(value, bool)


@bp.delete("/faults")
def clear_faults():
    """Behave normally again."""
    state = current_state()
    with state.lock:
        state.faults.clear()
        return jsonify(state.faults.as_json())


@bp.get("/calls")
def show_calls():
    """Every API call since the last reset, and a count per path."""
    state = current_state()
    with state.lock:
        return jsonify(calls=list(state.recorder.calls), counts=dict(state.recorder.counts))


@bp.delete("/calls")
def clear_calls():
    """Forget the call log."""
    state = current_state()
    with state.lock:
        state.recorder.clear_calls()
    return jsonify(ok=True)


@bp.post("/clock")
def advance_clock():
    """Move the emulator's clock forward by `advance` seconds."""
    state = current_state()
    seconds = json_body().get("advance")
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
        return bad_request("advance must be a number of seconds, not negative")
    with state.lock:
        state.clock.advance(seconds)
        return jsonify(now=state.now(), offset=state.clock.offset)


@bp.get("/messages")
def show_messages():
    """Messages put in chats by sendChatMessage and app messages sent by message/send."""
    state = current_state()
    with state.lock:
        return jsonify(messages=list(state.recorder.messages))


@bp.get("/world")
def show_world():
    """The whole world, for tests to compute expectations independently."""
    return jsonify(current_state().world.as_json())
