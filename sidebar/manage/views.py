"""/manage/…: the branch manager's workbench. Views parse the request, ask the scope, call one service, render."""
from datetime import datetime, timedelta

from flask import Blueprint, abort, g, redirect, url_for

from ..masking import mask_account
from ..materials.console import role_required
from ..models import CHINA, china_today
from ..params import choice_arg, date_arg, text_arg
from ..web import private, render
from . import charts
from . import execution as execution_service
from . import funnel as funnel_service
from . import openings as openings_service
from .journeys import advisor_labels
from .scope import advisors_in_scope, sees_firm

bp = Blueprint("manage", __name__, url_prefix="/manage")
VIEWERS = ("manager", "compliance")  # compliance reads the whole firm; a manager their branch
DEFAULT_DAYS = 30
POLL_SECONDS = 30


def _scope():
    """The advisors the signed-in viewer oversees; decided before anything else of the request is read."""
    return advisors_in_scope(g.userid)


def _period():
    """(since, until) from the query string: the last 30 days by default; 400 when reversed."""
    until = date_arg("until") or china_today()
    since = date_arg("since") or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        abort(400, "开始日期不能晚于结束日期")
    return since, until


@bp.get("/")
@role_required(*VIEWERS)
def home():
    """The workbench opens on the live openings."""
    return redirect(url_for(".openings"))


@bp.get("/funnel")
@role_required(*VIEWERS)
def funnel():
    """The funnel of the period, per branch and advisor."""
    advisors = _scope()
    since, until = _period()
    result = funnel_service.funnel(advisors, since, until)
    chart = charts.bars([(step.label, step.count, str(step.count)) for step in result.total.steps])
    return private(render("manage/funnel.html", funnel=result, chart=chart))


@bp.get("/funnel/rows")
@role_required(*VIEWERS)
def funnel_rows():
    """The clients behind one figure of the funnel, masked."""
    advisors = _scope()
    since, until = _period()
    step = choice_arg("step", funnel_service.STEPS, default="added")
    advisor, branch = text_arg("advisor", 64), text_arg("branch", 64)
    if advisor and advisor not in advisors:
        abort(404)
    rows = funnel_service.rows_behind(advisors, since, until, step, advisor=advisor, branch=branch,
                                      dormant=choice_arg("dormant", ("1",)) == "1")
    names = {userid: name for userid, (name, _) in advisor_labels(advisors).items()}
    return private(render("manage/funnel_rows.html", rows=rows, since=since, until=until, step=step,
                          labels=funnel_service.STEP_LABELS, mask_account=mask_account, names=names))


@bp.get("/openings")
@role_required(*VIEWERS)
def openings():
    """Today's steps by branch and advisor; the page polls itself."""
    advisors = _scope()
    figures = openings_service.live(advisors, datetime.now(CHINA), firm=sees_firm(g.userid))
    return private(render("manage/openings.html", live=figures, kinds=openings_service.KIND_LABELS,
                          poll=POLL_SECONDS, mask_account=mask_account))


@bp.get("/execution")
@role_required(*VIEWERS)
def execution():
    """SOP execution and material reach per branch and advisor over the period."""
    advisors = _scope()
    since, until = _period()
    advisor_lines, branch_lines, total = execution_service.execution(advisors, since, until, datetime.now(CHINA))
    chart = charts.bars([(line.label[:4], line.on_time_rate or 0, _percent(line.on_time_rate))
                         for line in advisor_lines])
    return private(render("manage/execution.html", advisors=advisor_lines, branches=branch_lines, total=total,
                          since=since, until=until, chart=chart))


def _percent(rate):
    """A rate as the chart labels it."""
    return "—" if rate is None else f"{rate * 100:.0f}%"
