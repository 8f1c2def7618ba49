"""/manage/activity: the service activity of a manager's department tree (WeCom's statistics, T+1)."""
from flask import Blueprint, abort, g

from ..domain.access import roles_of, staff_names
from ..identity.auth import role_required
from ..masking import mask_account
from ..params import date_arg, text_arg
from ..web import private, render
from . import activity_figures
from .activity_figures import InvalidPeriod
from .scope import advisors_in_scope

bp = Blueprint("manage_activity", __name__, url_prefix="/manage")


def nav_pages():
    """The workbench's nav entries beyond its own pages: 企微服务 and 大屏设备 for a manager (they read a department tree)."""
    userid = g.get("userid")
    return {"manage_pages": [("manage_activity.activity", "企微服务"), ("manage_walls.wall_list", "大屏设备")]
            if userid and "manager" in roles_of(userid) else []}


bp.context_processor(nav_pages)


def _period():
    """(since, until) of the query string; 400 when reversed or too long."""
    try:
        return activity_figures.period(date_arg("since"), date_arg("until"))
    except InvalidPeriod as invalid:
        abort(400, str(invalid))


@bp.get("/activity")
@role_required("manager")
def activity():
    """Per advisor in scope: chats, messages, reply rate and time, contacts won and lost; WeCom coverage."""
    since, until = _period()
    report = activity_figures.activity_report(g.userid, since, until)
    return private(render("manage/activity.html", report=report))


@bp.get("/activity/rows")
@role_required("manager")
def activity_rows():
    """The statistics days, group days and funded clients on WeCom behind one advisor's figures (the whole
    tree's without `advisor`), with their total worked out as the page does; masked."""
    scope = advisors_in_scope(g.userid)
    advisor = text_arg("advisor", 64)
    if advisor and advisor not in scope:
        abort(404)
    since, until = _period()
    advisors = {advisor} if advisor else scope
    days = activity_figures.advisor_days(advisors, since, until)
    return private(render("manage/activity_rows.html", advisor=advisor, names=staff_names(advisors), days=days,
                          total=activity_figures.days_total(days), since=since, until=until,
                          groups=activity_figures.group_days(advisors, since, until),
                          clients=activity_figures.funded_reached(advisors), mask_account=mask_account))


@bp.get("/activity/coverage")
@role_required("manager")
def coverage_rows():
    """The funded clients behind a branch's WeCom coverage (every branch's of the tree without `branch`), masked."""
    branch = text_arg("branch", 64)
    clients = activity_figures.coverage_clients(g.userid, branch)
    return private(render("manage/coverage_rows.html", branch=branch, clients=clients, mask_account=mask_account,
                          reached=sum(1 for *_, reachable in clients if reachable)))
