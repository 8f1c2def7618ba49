"""The client panel and the group panel of the sidebar."""
from flask import Blueprint, abort, g

from ..extensions import wecom
from ..identity.auth import login_required
from ..web import render
from . import service

bp = Blueprint("insight", __name__, url_prefix="/sidebar")


@bp.get("/contacts/<external_userid>")
@login_required
def contact(external_userid):
    """Client insight for a 1:1 chat."""
    panel = _authorised(service.contact_panel, external_userid)
    return _private(render("insight/contact.html", panel=panel))


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
