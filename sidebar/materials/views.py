"""The library in the sidebar, sharing from it, and the public tracked links."""
from flask import Blueprint, abort, g, jsonify, redirect, request, session, url_for

from ..extensions import wecom
from ..identity.auth import login_required
from ..models import KIND_LABELS, china_today
from ..params import choice_arg, text_arg
from ..ratelimit import enforce
from ..web import private, render
from . import categories, direct, library, sharing, tracking
from . import preview as previews
from .files import send_stored, stored_file
from .links import share_links
from .storage import storage

bp = Blueprint("materials", __name__)
LINK_LIMIT, LINK_WINDOW = 60, 60  # opens per client network (/24) per minute


@bp.get("/sidebar/materials")
@login_required
def browse():
    """The library, for the chat it is opened for (`chat=contact:…|group:…`), searchable."""
    offered, known = categories.names()
    page = library.browse(wecom(), g.userid, request.args.get("chat") or None, text_arg("q", 50),
                          choice_arg("category", known), choice_arg("kind", KIND_LABELS), china_today())
    return private(render("materials/library.html", library=page, kinds=KIND_LABELS, categories=offered,
                          ask_again=previews.sent_recently))



@bp.get("/sidebar/materials/<int:material_id>/preview")
@login_required
def preview(material_id):
    """What the chat (`chat=contact:…|group:…`) would receive, with 发送; 404 for a chat or material not the advisor's."""
    shown = previews.preview(wecom(), g.userid, material_id, request.args.get("chat"), china_today())
    return private(render("materials/preview.html", preview=shown, kinds=KIND_LABELS))


@bp.get("/sidebar/materials/<int:material_id>/thumb")
@login_required
def thumb(material_id):
    """The picture of a shareable material: the poster itself, or a card's cover."""
    stored = library.picture_of(material_id, china_today())
    if stored is None:
        abort(404)
    return send_stored(storage(), stored, f"{material_id}.{stored.extension}", inline=True, max_age=3600)


@bp.post("/sidebar/materials/<int:material_id>/shares")
@login_required
def share(material_id):
    """Prepare a share for the open chat: 200 with the message, 403 blocked (recorded), or 404."""
    try:
        prepared = sharing.prepare_share(wecom(), storage(), g.userid, material_id, request.form.get("target"),
                                         share_links)
    except sharing.Blocked as blocked:
        return jsonify(blocked=blocked.share.reason, share_id=blocked.share.id,
                       alternatives=[{"material_id": v.material_id, "title": v.title, "risk_level": v.risk_level}
                                     for v in blocked.alternatives]), 403
    except sharing.ShareFailed:
        abort(503, "物料上传到企业微信失败，请稍后再试")
    return jsonify(share_id=prepared.share.id, message=prepared.message, follow_up=prepared.follow_up,
                   report_url=url_for(".report", share_id=prepared.share.id))


@bp.post("/sidebar/materials/<int:material_id>/direct-shares")
@login_required
def direct_share(material_id):
    """From a group: prepare one shareToExternalContact to the group's qualifying clients the advisor follows."""
    try:
        prepared = direct.prepare_direct(wecom(), storage(), g.userid, material_id, request.form.get("target"), share_links)
    except direct.NobodyQualifies:
        return jsonify(error="群内没有您跟进的、适合该物料的客户"), 409
    except sharing.ShareFailed:
        abort(503, "物料上传到企业微信失败，请稍后再试")
    return jsonify(payload=prepared.payload, skipped=prepared.skipped,
                   shares=[{"share_id": s.id, "report_url": url_for(".report", share_id=s.id)} for s in prepared.shares])


@bp.post("/sidebar/shares/<int:share_id>")
@login_required
def report(share_id):
    """The page reports what became of a prepared share: sent, cancelled or failed."""
    try:
        share = sharing.report_result(g.userid, share_id, request.form.get("result"))
    except ValueError as invalid:
        abort(400, str(invalid))
    except sharing.UnknownShare:
        abort(404)
    except sharing.AlreadyReported:
        return jsonify(error="该发送的结果已记录，不能更改"), 409
    sharing.share_reported.send(share)  # an SOP task's message: the task is done when its batch was sent
    return jsonify(share_id=share.id, status=share.status)


@bp.get("/r/<token>")
def open_link(token):
    """Tracked link: record the open, then redirect to the article. Public, rate-limited.

    A HEAD answers as a GET does but is no open, nor is the advisor checking their own card.
    """
    _limit_rate()
    try:
        target = tracking.open_link(token, request.user_agent.string, request.remote_addr,
                                    counted=request.method == "GET" and not session.get("userid"))
    except tracking.UnknownLink:
        abort(404)
    except tracking.Offline:
        return render("materials/offline.html", status=410)
    response = redirect(target, 302)
    response.headers["Cache-Control"] = "no-store"  # every open must reach us to be counted
    response.headers["Referrer-Policy"] = "no-referrer"  # the token stays ours
    return response


@bp.get("/r/<token>/cover")
def cover(token):
    """The cover picture of a shared card, fetched by the client's WeChat; 410 once the material is offline.

    Public, rate-limited; kept an hour at most, so that a withdrawal shows soon.
    """
    _limit_rate()
    try:
        stored = stored_file(tracking.cover_of(token))
    except tracking.UnknownLink:
        abort(404)
    except tracking.Offline:
        abort(410)
    if stored is None:
        abort(404)
    return send_stored(storage(), stored, f"cover.{stored.extension}", inline=True, max_age=3600)


def _limit_rate():
    """429 when one client network opens links too fast (the key keeps no whole address)."""
    network = tracking.network_of(request.remote_addr) or "unknown"
    enforce(f"r:{network}", LINK_LIMIT, LINK_WINDOW)
