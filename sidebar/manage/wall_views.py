"""/manage/walls and the TV's wall: managers set up, pair again and revoke their branches' TVs; a paired TV
sees its department's wall (and the wall's own refresh) and nothing else: it holds no staff session, only a
cookie confined to that one path."""
from datetime import datetime, timedelta

from flask import Blueprint, abort, current_app, g, make_response, redirect, request, url_for

from ..domain.access import staff_names
from ..identity.auth import limit_logins, public_url, role_required
from ..masking import mask_account
from ..models import CHINA, utcnow
from ..web import private, render
from . import openings as openings_service
from . import scorecard as scorecard_service
from . import walls
from .activity import nav_pages

bp = Blueprint("manage_walls", __name__, url_prefix="/manage")
bp.context_processor(nav_pages)
COOKIE = "sidebar_wall"
COOKIE_DAYS = 365  # signed in once: the TV keeps it until the wall is revoked or paired again
POLL_SECONDS = 30
LINK_DEAD = "这个大屏链接已使用、已过期或已被撤销，请负责人重新生成"


@bp.get("/walls")
@role_required("manager")
def wall_list():
    """The manager's TVs, and the form to set one up."""
    return _walls_page()


@bp.post("/walls")
@role_required("manager")
def create():
    """A new TV for one of the manager's departments: the page with its pairing link, shown this once."""
    try:
        wall, secret = walls.create_wall(g.userid, request.form.get("department"), request.form.get("name"))
    except walls.InvalidWall as invalid:
        return _walls_page(error=str(invalid), status=400)
    return _walls_page(link=(wall, _link(secret)), status=201)


@bp.post("/walls/<int:wall_id>/link")
@role_required("manager")
def new_link(wall_id):
    """A new pairing link (the TV paired before stops), shown this once."""
    wall = walls.own_wall(g.userid, wall_id) or abort(404)
    return _walls_page(link=(wall, _link(walls.renew_link(wall))))


@bp.post("/walls/<int:wall_id>/revoke")
@role_required("manager")
def revoke(wall_id):
    """The wall's link and TV stop now."""
    wall = walls.own_wall(g.userid, wall_id) or abort(404)
    walls.revoke(wall, g.userid)
    return redirect(url_for(".wall_list"), 303)


def _link(secret):
    """The pairing link the TV opens."""
    return public_url("manage_walls.pair", secret=secret)


def _walls_page(link=None, error=None, status=200):
    """The list of the manager's TVs, with a link just made or the reason a set-up was refused."""
    screens = walls.walls_of(g.userid)
    people = staff_names({w.created_by for w in screens} | {w.revoked_by for w in screens if w.revoked_by})
    return private(render("manage/walls.html", status=status, walls=screens, departments=dict(walls.departments_for(
        g.userid)), people=people, link=link, error=error, hours=walls.LINK_HOURS,
        now_utc=utcnow()))


@bp.get("/wall/pair/<secret>")
def pair_page(secret):
    """The pairing link asks the TV to confirm: a chat app previewing the link must not use it up."""
    limit_logins()
    if not walls.link_is_live(secret):
        abort(404, LINK_DEAD)
    return private(render("manage/wall_pair.html", secret=secret))


@bp.post("/wall/pair/<secret>")
def pair(secret):
    """The TV confirms: it gets the wall's cookie and goes to its wall; the link is used up."""
    limit_logins()
    device = walls.pair(secret)
    if device is None:
        abort(404, LINK_DEAD)
    response = redirect(url_for(".screen"), 303)  # the link leaves the address bar
    response.set_cookie(COOKIE, device, max_age=int(timedelta(days=COOKIE_DAYS).total_seconds()),
                        path=url_for(".screen"), httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return private(response)


@bp.get("/wall/screen")
def screen():
    """大屏 of the paired TV's department: today's openings and the month's ranking, refreshing itself."""
    wall = walls.screen_for(request.cookies.get(COOKIE))
    if wall is None:
        abort(403, "这台大屏未授权或已被撤销，请负责人重新生成大屏链接")
    walls.record_view(wall)
    advisors, firm = walls.wall_scope(wall)
    now = datetime.now(CHINA)
    figures = openings_service.live(advisors, now, firm=firm)
    scores = scorecard_service.scorecard(advisors, now.strftime("%Y-%m"))
    response = make_response(render("manage/wall.html", live=figures, scores=scores,
                                    kinds=openings_service.KIND_LABELS, poll=POLL_SECONDS,
                                    mask_account=mask_account, poll_url=url_for(".screen"),
                                    place=walls.department_name(wall)))
    return private(response)
