"""The trading-system import API: a bearer token instead of a session, JSON in and out."""
import hmac
import json

from flask import Blueprint, abort, current_app, jsonify, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from ..extensions import csrf
from ..queue import enqueue
from ..ratelimit import client_key, enforce
from . import profiles

bp = Blueprint("sync", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no browser session here to ride on: the bearer token authenticates every call

MAX_BODY = 16 * 1024 * 1024
MAX_PROFILES = 10_000


@bp.post("/client-profiles")
def import_profiles():
    """Store a JSON array of client profiles; answer how many were accepted and why others were not."""
    # counted before the token check too: guessing tokens is as limited as importing
    enforce(client_key("import"), *current_app.config["IMPORT_RATE_LIMIT"])
    _require_token()
    rows = _profile_rows()
    result = profiles.import_profiles(rows)
    profiles.after_import(result.accounts)  # the group panels' daily figures follow the new data at once
    if current_app.config["PUSH_TAGS_AFTER_IMPORT"] and result.accepted:
        # in the worker; the nightly push-tags catches up on failure
        enqueue("import-tags", sorted(result.accounts))
    return jsonify(accepted=result.accepted, rejected=result.rejected)


def _require_token():
    """404 while no token is configured; 401 unless the request carries the configured one."""
    token = current_app.config.get("SIDEBAR_IMPORT_TOKEN")
    if not token:
        abort(404, "import API disabled")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # compare_digest takes as long for a near miss as for a wild guess: the token cannot be probed
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise Unauthorized("a valid bearer token is required", www_authenticate=WWWAuthenticate("Bearer"))


def _profile_rows():
    """The body as a JSON array of at most MAX_PROFILES items, or a 400/413 saying why not."""
    request.max_content_length = MAX_BODY  # set before the first read: a larger body stops at 413
    try:
        rows = json.loads(request.get_data(cache=False), parse_constant=_not_json)
    except (ValueError, RecursionError) as error:
        abort(400, f"invalid JSON: {error}")
    if not isinstance(rows, list):
        abort(400, "expected a JSON array of profiles")
    if len(rows) > MAX_PROFILES:
        abort(413, f"at most {MAX_PROFILES} profiles a request, got {len(rows)}")
    return rows


def _not_json(constant):
    """NaN and Infinity are Python's extensions, not JSON."""
    raise ValueError(f"{constant} is not a JSON value")
