"""The WeCom callback URL: verification (GET) and events (POST), authenticated by their signature."""
from flask import Blueprint, Response, abort, current_app, request

from ..extensions import csrf
from ..acquisition.queueing import enqueue_welcome
from ..queue import enqueue
from . import inbox
from .callback import CallbackCrypto, CallbackError

bp = Blueprint("callbacks", __name__)
csrf.exempt(bp)  # WeCom has no session: msg_signature authenticates every call

MAX_BODY = 64 * 1024  # an event is a few hundred bytes


@bp.get("/wecom/callback")
def verify_url():
    """URL verification: answer the decrypted echostr alone."""
    try:
        plain = inbox.verify_url(_crypto(), request.args)
    except CallbackError as error:
        abort(error.status, str(error))
    return Response(plain, mimetype="text/plain")


@bp.post("/wecom/callback")
def receive():
    """Verify, decrypt and store an event; answer 200 with an empty body at once: the worker processes it."""
    request.max_content_length = MAX_BODY
    try:
        row_id = inbox.accept(_crypto(), request.args, request.get_data(cache=False))
    except CallbackError as error:
        abort(error.status, str(error))
    if row_id is not None:  # None: a repeat of a stored callback, answered alike and not processed again
        # an add through a channel's code: its welcome first (WeCom takes the WelcomeCode for 20 s only)
        enqueue_welcome(row_id)
        # once the event's second is over (see inbox.SETTLE); if the queue is unreachable, the drain does it
        enqueue("callback", row_id, delay=inbox.SETTLE)
    return Response("", mimetype="text/plain")


def _crypto():
    """The callback crypto of our Token and key; 404 while callbacks are not configured."""
    config = current_app.config
    if not config.get("WECOM_TOKEN"):
        abort(404, "callbacks are not configured")
    return CallbackCrypto(config["WECOM_TOKEN"], config["WECOM_AES_KEY"], config["WECOM_CORP_ID"])
