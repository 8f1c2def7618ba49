"""The client panel and the group panel of the sidebar."""
from flask import Blueprint, abort, g, redirect, request, url_for

from ..extensions import wecom
from ..identity.auth import login_required
from ..web import render, wants_fragment
from . import client, service

bp = Blueprint("insight", __name__, url_prefix="/sidebar")


@bp.get("/contacts/<external_userid>")
@login_required
def contact(external_userid):
    """Client insight for a 1:1 chat."""
    panel = _authorised(client.client_panel, external_userid)
    return _private(render("insight/contact.html", panel=panel))


@bp.post("/contacts/<external_userid>/notes")
@login_required
def add_note(external_userid):
    """Add a follow-up note; htmx gets the refreshed notes section back."""
    error = None
    try:
        client.add_note(wecom(), g.userid, external_userid, request.form.get("body"))
    except client.InvalidNote as invalid:
        error = str(invalid)
    except service.NotVisible:
        abort(404)
    except client.NotAllowed:
        abort(403, "负责人视图为只读，不能添加跟进记录")
    if not wants_fragment():
        return redirect(url_for(".contact", external_userid=external_userid), 303)
    notes = client.latest_notes(external_userid)
    return _private(render("insight/notes.html", status=422 if error else 200, notes=notes,
                           authors=service.staff_names({n.author for n in notes}),
                           external_userid=external_userid, error=error, draft=request.form.get("body")))


@bp.get("/groups/<chat_id>")
@login_required
def group(chat_id):
    """Group insight for a group chat."""
    panel = _authorised(service.group_panel, chat_id)
    return _private(render("insight/group.html", panel=panel))


def _authorised(build, object_id):
    """Build a panel for the signed-in advisor, mapping domain errors to 404/503."""
    try:
        return build(wecom(), g.userid, object_id)
    except service.NotVisible:
        abort(404)
    except service.Unavailable:
        abort(503, "企业微信暂时无法访问，暂时无法识别这个聊天")


def _private(response):
    """Client data must not be kept by the browser or any cache on the way."""
    response.headers["Cache-Control"] = "no-store"
    return response
