"""The console's SOP pages: the plans, one plan with its review actions and figures (/console/sop/…)."""
from flask import Blueprint, abort, g, redirect, request, url_for

from ..domain.access import advisors_managed_by, staff_names
from ..identity.auth import role_required
from ..web import private, render
from . import figures, review

bp = Blueprint("sop_console", __name__, url_prefix="/console/sop")
READERS = ("operator", "compliance", "manager", "content")
WRITERS, REVIEWERS = ("operator",), ("compliance",)
FIRM_FIGURES = ("operator", "compliance", "content")  # a manager only sees their department tree's figures
ACTIONS = {"submit": (WRITERS, review.submit), "pause": (WRITERS + REVIEWERS, review.pause),
           "resume": (WRITERS + REVIEWERS, review.resume), "approve": (REVIEWERS, review.approve)}


@bp.get("/")
@role_required(*READERS)
def plans():
    """Every plan with its state."""
    return private(render("sop/console_plans.html", plans=review.list_plans(), state_of=review.state_of))


@bp.get("/<int:plan_id>")
@role_required(*READERS)
def plan(plan_id):
    """A plan: its state, steps, versions, review actions, and its figures."""
    return _plan_page(_get(plan_id))


@bp.post("/<int:plan_id>/<action>")
@role_required(*READERS)
def act(plan_id, action):
    """submit / approve / pause / resume: 303 back to the plan, or the page with the reason (403/409)."""
    if action == "reject":
        return _reject(plan_id)
    if action not in ACTIONS:
        abort(404)
    roles, run = ACTIONS[action]
    if not g.roles & set(roles):
        abort(403, "没有此操作的权限")
    try:
        run(g.userid, plan_id)
    except review.NotFound:
        abort(404)
    except review.NotAllowed as refused:
        return _plan_page(_get(plan_id), str(refused), 403)
    except review.WrongState as wrong:
        return _plan_page(_get(plan_id), str(wrong), 409)
    return redirect(url_for(".plan", plan_id=plan_id), 303)


def _reject(plan_id):
    """Reject with the form's comment."""
    if "compliance" not in g.roles:
        abort(403, "没有此操作的权限")
    try:
        review.reject(g.userid, plan_id, request.form.get("comment"))
    except review.NotFound:
        abort(404)
    except review.InvalidInput as invalid:
        return _plan_page(_get(plan_id), str(invalid), 422)
    except review.NotAllowed as refused:
        return _plan_page(_get(plan_id), str(refused), 403)
    except review.WrongState as wrong:
        return _plan_page(_get(plan_id), str(wrong), 409)
    return redirect(url_for(".plan", plan_id=plan_id), 303)


def _get(plan_id):
    """The plan or 404."""
    try:
        return review.get_plan(plan_id)
    except review.NotFound:
        abort(404)


def _plan_page(plan, error=None, status=200):
    """The plan's page."""
    advisors = None if g.roles & set(FIRM_FIGURES) else advisors_managed_by(g.userid)
    total, by_advisor = figures.task_counts(plan.id, advisors)
    treated, holdout, ended = figures.target_counts(plan.id, advisors)
    return private(render("sop/console_plan.html", status=status, plan=plan, state=review.state_of(plan),
                          error=error, may_review=review.may_review(plan, g.userid), total=total,
                          by_advisor=by_advisor, names=staff_names(list(by_advisor)), treated=treated,
                          holdout=holdout, ended=ended, effect=figures.effect(plan), min_group=figures.MIN_GROUP,
                          group_effect=figures.group_effect(plan), min_groups=figures.MIN_GROUPS))
