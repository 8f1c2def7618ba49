"""/manage/activity: the service activity of a manager's department tree (WeCom's statistics, T+1)."""
from flask import Blueprint, abort, g

from ..identity.auth import role_required
from ..params import date_arg
from ..web import private, render
from . import activity_figures
from .activity_figures import InvalidPeriod

bp = Blueprint("manage_activity", __name__, url_prefix="/manage")


@bp.get("/activity")
@role_required("manager")
def activity():
    """Per advisor in scope: chats, messages, reply rate and time, contacts won and lost; WeCom coverage."""
    try:
        since, until = activity_figures.period(date_arg("since"), date_arg("until"))
    except InvalidPeriod as invalid:
        abort(400, str(invalid))
    report = activity_figures.activity_report(g.userid, since, until)
    return private(render("manage/activity.html", report=report))
