"""The console's channels (/console/channels…): list, create, one channel with its QR code, edit, retire,
and the channel report. Operators write; managers, compliance and content read."""
from flask import Blueprint, Response, abort, g, redirect, request, url_for

from ..extensions import wecom
from ..identity.auth import role_required
from ..params import int_arg
from ..web import private, render
from . import channels, posters, report
from .channels import ChannelInput, InvalidInput, NotFound

bp = Blueprint("channels", __name__, url_prefix="/console/channels")
WRITERS = ("operator",)
READERS = ("operator", "manager", "compliance", "content")


@bp.get("")
@role_required(*READERS)
def index():
    """Every channel, and the form of a new one."""
    return _list_page()


@bp.post("")
@role_required(*WRITERS)
def create():
    """Make a channel from the form: 303 to its page, or the form again with the reason (422)."""
    try:
        channel = channels.create_channel(wecom(), g.userid, _read_form())
    except InvalidInput as invalid:
        return _list_page(str(invalid), 422)
    return redirect(url_for(".show", channel_id=channel.id), 303)


@bp.get("/<int:channel_id>")
@role_required(*READERS)
def show(channel_id):
    """A channel: its QR code (downloadable), settings, arrivals; the edit form for operators."""
    channel = _get(channel_id)
    channels.fetch_qr(wecom(), channel)  # only when an earlier fetch failed
    return _channel_page(channel)


@bp.post("/<int:channel_id>")
@role_required(*WRITERS)
def update(channel_id):
    """Change a channel: 303 back, or the page with the reason (422)."""
    return _change(channel_id, lambda: channels.update_channel(wecom(), channel_id, _read_form()))


@bp.post("/<int:channel_id>/retire")
@role_required(*WRITERS)
def retire(channel_id):
    """Retire a channel (its code stops working): 303 back."""
    return _change(channel_id, lambda: channels.retire_channel(wecom(), channel_id, g.userid))


@bp.get("/<int:channel_id>/qr.png")
@role_required(*READERS)
def qr(channel_id):
    """The channel's QR image; `download=1` saves it as a file (for a poster)."""
    channel = _get(channel_id)
    if not channel.qr_image:
        abort(404)
    response = Response(channel.qr_image, mimetype=channel.qr_type or "image/png")
    if request.args.get("download") == "1":
        response.headers["Content-Disposition"] = f'attachment; filename="channel-{channel.id}-qr.png"'
    return private(response)


@bp.get("/<int:channel_id>/poster.png")
@role_required(*WRITERS)
def poster(channel_id):
    """The channel's QR code printed on the approved poster `material`, as a PNG to download; the page
    with the reason (422) for a material that may not be printed."""
    channel = _get(channel_id)
    material = int_arg("material")  # None when not chosen: the page says to choose one
    try:
        image = posters.compose(channel, material)
    except InvalidInput as invalid:
        return _channel_page(channel, str(invalid), 422)
    response = Response(image, mimetype="image/png")
    response.headers["Content-Disposition"] = (f'attachment; filename="channel-{channel.id}-poster-{material}.png"')
    return private(response)


@bp.get("/report")
@role_required(*READERS)
def channel_report():
    """Per channel: arrivals, verified relationships, opened, funded, time to open."""
    return private(render("acquisition/report.html", rows=report.channel_report(), verify_days=report.VERIFY_DAYS))


def _read_form():
    """The channel form's fields (the contract's names); ids are checked by the service, never trusted."""
    welcome = request.form.get("welcome") or ""
    return ChannelInput(name=request.form.get("name", ""), kind=request.form.get("kind", ""),
                        userids=request.form.getlist("userids"), chat_ids=request.form.getlist("chat_ids"),
                        tag_ids=request.form.getlist("tags"),
                        welcome_id=int(welcome) if welcome.isdigit() and len(welcome) < 10 else None)


def _get(channel_id):
    """The channel or 404."""
    try:
        return channels.get_channel(channel_id)
    except NotFound:
        abort(404)


def _list_page(error=None, status=200):
    """The channel list with the new-channel form."""
    return private(render("acquisition/channels.html", status=status, channels=channels.list_channels(),
                          counts=report.arrival_counts(), error=error, form=request.form,
                          choices=channels.form_choices(), kinds=channels.KIND_LABELS))


def _channel_page(channel, error=None, status=200):
    """One channel's page."""
    return private(render("acquisition/channel.html", status=status, channel=channel, error=error,
                          choices=channels.form_choices(), kinds=channels.KIND_LABELS,
                          posters=posters.poster_choices() if "operator" in g.roles else [],
                          figures=report.channel_figures(channel.id), recent=report.recent_arrivals(channel.id)))


def _change(channel_id, change):
    """Run a change of the channel: 303 back to it, 404 for no such channel, its page with the reason (422)."""
    try:
        change()
    except NotFound:
        abort(404)
    except InvalidInput as invalid:
        return _channel_page(_get(channel_id), str(invalid), 422)
    return redirect(url_for(".show", channel_id=channel_id), 303)
