"""The sidebar's SOP: 今日SOP above a chat's panel, sending and skipping a task, the advisor's 工作台."""
from flask import Blueprint, abort, g, jsonify, make_response, render_template, request, url_for

from ..extensions import wecom
from ..identity.auth import login_required
from ..domain.access import roles_of, staff_names
from ..materials import sharing
from ..materials.storage import storage
from ..materials.links import share_links
from ..web import private, render
from ..models import KIND_LABELS
from . import alternatives as alternative_materials
from . import tasks
from .mass_views import overview as mass_overview

bp = Blueprint("sop", __name__)
KINDS = {"contact": "contact", "group": "group"}


@bp.app_template_global()
def sop_due(kind, chat_id):
    """Whether the signed-in advisor has tasks due in this chat: only then does a panel ask for 今日SOP
    (a second request, always live: a kept panel copy may be up to a minute old)."""
    return tasks.has_due(g.userid, kind, chat_id)


@bp.get("/sidebar/tasks")
@login_required
def chat_tasks():
    """今日SOP for the open chat (`chat=contact:…|group:…`): the advisor's tasks due there."""
    kind, _, chat_id = (request.args.get("chat") or "").partition(":")
    if kind not in KINDS or not chat_id or len(chat_id) > 64:
        abort(404)
    views = tasks.due_for_chat(g.userid, kind, chat_id)
    # always the fragment: it is only ever loaded into a panel (render() would look for a partial's partial)
    return private(make_response(render_template("sop/_chat_tasks.html", views=views,
                                                 skip_reasons=tasks.SKIP_REASONS)))


@bp.get("/sidebar/today")
@login_required
def today():
    """The advisor's 工作台: tasks due now and overdue, by chat, and what was done today."""
    due = tasks.due_for_advisor(g.userid)
    return private(render("sop/today.html", chats=tasks.counts_by_chat(due), done=tasks.done_today(g.userid),
                          labels=tasks.STATUS_LABELS, names=_chat_names(due), mass=mass_overview(g.userid),
                          manager="manager" in roles_of(g.userid)))


@bp.post("/sidebar/tasks/<int:task_id>/shares")
@login_required
def prepare(task_id):
    """The task's messages for its chat: 200 {"shares": […]}, or 403 {"blocked", "share_id"}."""
    try:
        prepared = tasks.prepare(wecom(), storage(), g.userid, task_id, share_links)
    except tasks.WrongState as wrong:
        return jsonify(error=str(wrong)), 409
    except sharing.Blocked as blocked:
        return jsonify(blocked=blocked.share.reason, share_id=blocked.share.id,
                       alternatives_url=url_for(".alternatives", task_id=task_id)), 403
    except sharing.ShareFailed:
        abort(503, "物料上传到企业微信失败，请稍后再试")
    return jsonify(shares=[{"share_id": share.id, "message": message, "follow_up": follow_up,
                            "report_url": url_for("materials.report", share_id=share.id)}
                           for share, message, follow_up in prepared])


@bp.get("/sidebar/tasks/<int:task_id>/alternatives")
@login_required
def alternatives(task_id):
    """Beside a blocked task: suitable materials of the same category for its chat, to send in one tap."""
    page = alternative_materials.for_task(wecom(), g.userid, task_id)
    return private(make_response(render_template("sop/_alternatives.html", library=page, kinds=KIND_LABELS)))


@bp.post("/sidebar/tasks/<int:task_id>/skip")
@login_required
def skip(task_id):
    """Skip a task with a reason (form field `reason`)."""
    try:
        task = tasks.skip(g.userid, task_id, request.form.get("reason"))
    except tasks.InvalidInput as invalid:
        return jsonify(error=str(invalid)), 422
    except tasks.WrongState as wrong:
        return jsonify(error=str(wrong)), 409
    return jsonify(task_id=task.id, status=task.status)


def _chat_names(views):
    """{chat_id: a name to show}: the group's name or the contact's remark (masked in the template)."""
    from sqlalchemy import select

    from ..extensions import db
    from ..models import ExternalContact, Follow, GroupChat

    ids = {v.task.chat_id for v in views}
    names = dict(db.session.execute(select(GroupChat.chat_id, GroupChat.name).where(GroupChat.chat_id.in_(ids))).tuples().all())
    for follow, contact in db.session.execute(select(Follow, ExternalContact).join(ExternalContact).where(
            Follow.userid == g.userid, Follow.external_userid.in_(ids))).tuples().all():
        names[follow.external_userid] = follow.remark or contact.name
    return names


__all__ = ["bp", "staff_names"]
