"""/console/jobs: the background work as a branch manager (role manager) sees it, and the trading calendar."""
from flask import Blueprint, g, redirect, request, url_for

from ..identity.auth import role_required
from ..web import render
from . import status
from ..queue import queue

bp = Blueprint("jobs", __name__, url_prefix="/console")
MANAGERS = ("manager",)  # there is no admin role: the branch managers look after the firm's set-up


@bp.get("/jobs")
@role_required(*MANAGERS)
def jobs():
    """Periodic jobs, failures of the last 24 hours, the queue, the workers, the trading calendar."""
    return _page()


@bp.post("/jobs/closures")
@role_required(*MANAGERS)
def add_closure():
    """Add an unscheduled closure: 303 back, or the page with the reason (400)."""
    try:
        status.add_closure(request.form.get("day"), request.form.get("reason"), g.userid)
    except status.InvalidClosure as invalid:
        return _page(str(invalid), 400)
    return redirect(url_for(".jobs"), 303)


@bp.post("/jobs/closures/<day>/delete")
@role_required(*MANAGERS)
def remove_closure(day):
    """Take a closure back."""
    status.remove_closure(day)
    return redirect(url_for(".jobs"), 303)


def _page(error=None, code=200):
    """The page, with the reason a closure was refused when there is one."""
    return render("jobs/jobs.html", status=code, view=status.overview(queue()), labels=status.LABELS,
                  error=error, form=request.form)
