"""The client panel and the group panel of the sidebar."""
from functools import partial

from flask import Blueprint, abort, g, redirect, request, url_for

from .. import memo
from ..domain import access
from ..extensions import wecom
from ..identity.auth import login_required
from ..models import china_today
from ..params import int_arg
from ..web import private, render, wants_fragment
from . import contact as contact_insight
from . import group as group_insight
from . import timeline as client_timeline

bp = Blueprint("insight", __name__, url_prefix="/sidebar")


@bp.app_template_global()
def wecom_trouble():
    """Whether WeCom failed lately: panels then say how old their local data is."""
    return wecom().in_trouble()


@bp.get("/contacts/<external_userid>")
@login_required
def contact(external_userid):
    """Client insight for a 1:1 chat; the fragment is reused while none of what it shows changed (memo.py)."""
    keep = None
    if wants_fragment():
        key = ("insight/contact.html", external_userid, g.userid, china_today(), wecom().in_trouble())
        keep = partial(memo.kept_response, key)
    return private(contact_insight.shown_panel(wecom(), g.userid, external_userid,
                                               lambda panel: render("insight/contact.html", panel=panel), keep))


@bp.post("/contacts/<external_userid>/notes")
@login_required
def add_note(external_userid):
    """Add a follow-up note; htmx gets the refreshed notes section back (422 with the reason)."""
    error = None
    try:
        contact_insight.add_note(wecom(), g.userid, external_userid, request.form.get("body"))
    except contact_insight.InvalidNote as invalid:
        error = str(invalid)
    except contact_insight.NotAllowed:
        abort(403, "负责人视图为只读，不能添加跟进记录")
    if not wants_fragment():
        return redirect(url_for(".contact", external_userid=external_userid), 303)
    notes, authors = _authorised(contact_insight.notes_section, external_userid)
    return private(render("insight/notes.html", status=422 if error else 200, notes=notes, authors=authors,
                           external_userid=external_userid, error=error, draft=request.form.get("body")))


@bp.get("/contacts/<external_userid>/timeline")
@login_required
def timeline(external_userid):
    """客户动态: a page of the client's timeline (htmx appends the next page in place of its 更多 button)."""
    shown = client_timeline.timeline_section(wecom(), g.userid, external_userid, int_arg("page", 1, high=50))
    return private(render("insight/timeline.html", timeline=shown))


@bp.get("/groups/<chat_id>")
@login_required
def group(chat_id):
    """Group insight for a group chat; `window` and `stage` pick the conversion window and member filter."""
    return _group_view("insight/group.html", chat_id)


@bp.get("/groups/<chat_id>/conversion")
@login_required
def group_conversion(chat_id):
    """The conversion section for another window (htmx swaps it in); a browser gets the whole panel."""
    return _group_view("insight/group_conversion.html", chat_id)


@bp.get("/groups/<chat_id>/members")
@login_required
def group_members(chat_id):
    """The member list filtered by stage (htmx swaps it in); a browser gets the whole panel."""
    return _group_view("insight/group_members.html", chat_id)


def _group_view(page, chat_id):
    """The group panel's page or fragment for the signed-in viewer, the window and filter the request asks for.

    Every open is authorised; a fragment rendered for the same viewer and choices is reused while
    none of the data it shows has changed (memo.py).
    """
    args = request.args
    # The member list is behind a count and a search: listed when asked for (the members route, a
    # stage, a search or "show all"), not on every open.
    listed = page == "insight/group_members.html" or any(args.get(name) for name in ("stage", "q", "show"))
    choices = (args.get("window", group_insight.DEFAULT_WINDOW), args.get("stage", ""), args.get("show") == "all",
               args.get("q", "").strip()[:50], listed)
    group = _authorised(access.find_group, chat_id)

    def rendered():
        """The panel as the group's data is now."""
        window, stage, show_all, query, listed = choices
        try:
            return render(page, panel=group_insight.group_panel(group, g.userid, window, stage, show_all,
                                                                query=query, listed=listed))
        except group_insight.InvalidChoice:
            abort(400, "没有这个时间范围或成员筛选")

    if not wants_fragment():
        return private(rendered())
    key = (page, chat_id, g.userid, choices, china_today(), wecom().in_trouble())
    return private(memo.response(key, group_insight.panel_data(g.userid, chat_id), rendered))


def _authorised(build, object_id):
    """Build a panel for the signed-in advisor (NotVisible and Unavailable answer 404/503, web.py)."""
    return build(wecom(), g.userid, object_id)
