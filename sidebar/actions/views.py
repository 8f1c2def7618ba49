"""The client panel's actions: 下一步, "remind me", editing remark/description/tags, linking by mobile;
and the reminders on the advisor's 工作台."""
from flask import Blueprint, abort, g, redirect, request, url_for

from ..extensions import wecom
from ..identity.auth import login_required
from ..insight import contact as contact_insight
from ..models import china_today
from ..web import private, render, wants_fragment
from ..wecom import WeComError
from . import nextstep, profile, reminders
from .service import InvalidInput, NotAllowed, own_follow

bp = Blueprint("actions", __name__, url_prefix="/sidebar")
READ_ONLY = "负责人视图为只读，不能修改客户信息"
WECOM_FAILED = "企业微信暂时无法访问，没有保存，请稍后再试"


@bp.app_template_global()
def next_steps(panel):
    """下一步 for a client panel (computed from what the panel loaded, plus one query for materials)."""
    return nextstep.next_steps(panel, china_today())


@bp.app_template_global()
def follow_up_reminders():
    """The signed-in advisor's open follow-up reminders, for the 工作台."""
    return reminders.open_reminders(g.userid)


@bp.post("/contacts/<external_userid>/reminders")
@login_required
def add_reminder(external_userid):
    """A follow-up reminder (`at`: ISO datetime, China time without an offset; `text`)."""
    _own(external_userid)  # authorised before anything else of the request is read
    error, added = None, None
    try:
        added = reminders.add(wecom(), g.userid, external_userid, request.form.get("at"), request.form.get("text"))
    except InvalidInput as invalid:
        error = str(invalid)
    if not wants_fragment():
        return _back_to(external_userid, error)
    return private(render("actions/remind.html", status=422 if error else 200, external_userid=external_userid,
                          error=error, added=added, form=request.form))


@bp.post("/reminders/<int:reminder_id>/done")
@login_required
def reminder_done(reminder_id):
    """Close a reminder; the 工作台's reminder list comes back."""
    return _on_reminder(reminders.done, reminder_id)


@bp.post("/reminders/<int:reminder_id>/move")
@login_required
def move_reminder(reminder_id):
    """Move a reminder to `at`; the 工作台's reminder list comes back (422 with the reason)."""
    return _on_reminder(reminders.move, reminder_id, request.form.get("at"))


def _on_reminder(action, reminder_id, *args):
    """Run a reminder action of the signed-in advisor's and answer with the reminder list."""
    error = None
    try:
        action(g.userid, reminder_id, *args)
    except InvalidInput as invalid:
        error = str(invalid)
    if not wants_fragment():
        return redirect(url_for("sop.today"), 303)
    return private(render("actions/reminders.html", status=422 if error else 200, error=error, failed=reminder_id))


@bp.get("/contacts/<external_userid>/profile")
@login_required
def profile_form(external_userid):
    """The form editing remark, description and the firm's tags."""
    follow = _own(external_userid)
    return private(render("actions/profile.html", follow=follow, groups=profile.firm_tags(wecom())))


@bp.post("/contacts/<external_userid>/profile")
@login_required
def edit_profile(external_userid):
    """Write remark, description and tags (`add_tag`, `remove_tag`: repeatable ids) to WeCom and store them;
    htmx gets the refreshed panel back, or the form with the reason (422)."""
    form = request.form
    follow = _own(external_userid)  # authorised before anything else of the request is read
    edit = profile.Edit(remark=form.get("remark"), description=form.get("description"),
                        add_tag=tuple(form.getlist("add_tag")), remove_tag=tuple(form.getlist("remove_tag")))
    try:
        profile.edit_profile(wecom(), g.userid, external_userid, edit)
    except InvalidInput as invalid:
        return _form_again(follow, str(invalid), 422)
    except WeComError:
        return _form_again(follow, WECOM_FAILED, 503)
    return _panel_again(external_userid)


@bp.post("/contacts/<external_userid>/mobiles")
@login_required
def link_mobile(external_userid):
    """Note the mobile a prospect gives (field `mobile`) in WeCom and match their trading account."""
    _own(external_userid)  # authorised before anything else of the request is read
    try:
        linked = profile.link_mobile(wecom(), g.userid, external_userid, request.form.get("mobile"))
    except InvalidInput as invalid:
        return _mobile_again(external_userid, str(invalid), 422)
    except WeComError:
        return _mobile_again(external_userid, WECOM_FAILED, 503)
    if not linked:
        return _mobile_again(external_userid, None, 200, note="已记录手机号，暂未找到该手机号的资金账户，导入后会自动匹配")
    return _panel_again(external_userid)


def _own(external_userid):
    """The signed-in advisor's own follow (404 when not theirs, 403 for a manager's read-only view)."""
    try:
        return own_follow(wecom(), g.userid, external_userid)
    except NotAllowed:
        abort(403, READ_ONLY)


def _form_again(follow, error, status):
    """The edit form with the reason it was not saved (what was typed is not kept: WeCom has the truth)."""
    return private(render("actions/profile.html", status=status, follow=follow, groups=profile.firm_tags(wecom()),
                          error=error))


def _mobile_again(external_userid, error, status, note=None):
    """The link-by-mobile form with its reason or note."""
    return private(render("actions/mobile.html", status=status, external_userid=external_userid, error=error,
                          note=note))


def _panel_again(external_userid):
    """After a change: the whole client panel, swapped into the page's panel (a browser: 303 to it)."""
    if not wants_fragment():
        return redirect(url_for("insight.contact", external_userid=external_userid), 303)
    response = contact_insight.shown_panel(wecom(), g.userid, external_userid,
                                           lambda panel: render("insight/contact.html", panel=panel))
    response.headers.update({"HX-Retarget": "#panel", "HX-Reswap": "innerHTML"})
    return private(response)


def _back_to(external_userid, error):
    """A browser without htmx: back to the panel (the reason, if any, as the error page)."""
    if error:
        abort(422, error)
    return redirect(url_for("insight.contact", external_userid=external_userid), 303)
