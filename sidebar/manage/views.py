"""/manage/…: the branch manager's workbench. Views parse the request, ask the scope, call one service, render."""
import re
from datetime import datetime, timedelta

from flask import Blueprint, Response, abort, g, redirect, request, url_for

from ..masking import mask_account
from ..identity.auth import role_required
from ..models import CHINA, china_today
from ..params import choice_arg, date_arg, text_arg
from ..web import private, render
from . import charts, export
from . import execution as execution_service
from . import funnel as funnel_service
from . import openings as openings_service
from . import scorecard as scorecard_service
from ..sop.tasks import STATUS_LABELS
from .activity import nav_pages
from .journeys import advisor_labels
from .scope import advisors_in_scope, sees_firm

bp = Blueprint("manage", __name__, url_prefix="/manage")
bp.context_processor(nav_pages)
VIEWERS = ("manager", "compliance")  # compliance reads the whole firm; a manager their branch
DEFAULT_DAYS = 30
POLL_SECONDS = 30
MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")
ROW_INDICATORS = ("new_funded", "net_new_assets", "coverage")  # the indicators counted from clients
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _scope():
    """The advisors the signed-in viewer oversees; decided before anything else of the request is read."""
    return advisors_in_scope(g.userid)


def _advisor_arg(advisors):
    """The `advisor` the rows are asked for, if any: one of the viewer's (404 for anyone else)."""
    advisor = text_arg("advisor", 64)
    if advisor and advisor not in advisors:
        abort(404)
    return advisor


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
    advisor, branch = _advisor_arg(advisors), text_arg("branch", 64)
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


@bp.get("/openings/rows")
@role_required(*VIEWERS)
def opening_rows():
    """Today's steps of one kind behind a figure of 开户实况, attributed and masked."""
    advisors = _scope()
    kind = choice_arg("kind", openings_service.KIND_LABELS, default="opened")
    advisor = _advisor_arg(advisors)
    steps = openings_service.todays_steps(advisors, datetime.now(CHINA), kind, advisor, firm=sees_firm(g.userid))
    return private(render("manage/opening_rows.html", steps=steps, kind=kind, kinds=openings_service.KIND_LABELS,
                          mask_account=mask_account))


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


@bp.get("/execution/rows")
@role_required(*VIEWERS)
def execution_rows():
    """The tasks or shares behind a figure of SOP执行与触达 (one advisor's or branch's), masked."""
    advisors = _scope()
    since, until = _period()
    figure = choice_arg("figure", execution_service.ROW_FIGURES, default="counted")
    advisor, branch = _advisor_arg(advisors), text_arg("branch", 64)
    rows, names, advisor_names = execution_service.rows_behind(advisors, since, until, datetime.now(CHINA), figure,
                                                               advisor=advisor, branch=branch)
    return private(render("manage/execution_rows.html", rows=rows, names=names, advisor_names=advisor_names,
                          figure=figure, labels=execution_service.ROW_FIGURES, statuses=STATUS_LABELS,
                          since=since, until=until))


def _percent(rate):
    """A rate as the chart labels it."""
    return "—" if rate is None else f"{rate * 100:.0f}%"


def _month():
    """'YYYY-MM' from the query string (this month by default); 400 when malformed."""
    text = request.args.get("month", "").strip() or china_today().strftime("%Y-%m")
    if not MONTH.fullmatch(text) or not 1 <= int(text[5:]) <= 12 or int(text[:4]) < 1990:
        abort(400, "参数 month 应为 年-月，如 2026-11")
    return text


@bp.get("/scorecard")
@role_required(*VIEWERS)
def scorecard():
    """The month's branch scores and ranks; `format=csv` or `xlsx` downloads them."""
    advisors = _scope()
    month = _month()
    scores = scorecard_service.scorecard(advisors, month)
    fmt = choice_arg("format", ("csv", "xlsx"))
    if fmt:
        return _download(scores, month, fmt)
    return _scorecard_page(scores, month)


@bp.get("/scorecard/rows")
@role_required(*VIEWERS)
def score_rows():
    """The clients behind a branch's indicator (new funded, net new assets, coverage), masked."""
    advisors = _scope()
    month = _month()
    key = choice_arg("indicator", ROW_INDICATORS, default="new_funded")
    branch = text_arg("branch", 64) or ""
    rows = scorecard_service.rows_behind(advisors, month, branch, key)
    return private(render("manage/score_rows.html", rows=rows, key=key, branch=branch, month=month,
                          label=scorecard_service.INDICATORS[key][0], mask_account=mask_account))


@bp.post("/scorecard/indicators")
@role_required(*VIEWERS)
def save_indicators():
    """Head office sets the indicators' targets and weights: 303 back, or the page with the reason (400)."""
    if not sees_firm(g.userid):
        abort(403, "只有总部可以设置考核指标")
    month = _month()
    try:
        scorecard_service.save_indicators(request.form, g.userid)
    except scorecard_service.InvalidIndicator as invalid:
        scores = scorecard_service.scorecard(_scope(), month)
        return _scorecard_page(scores, month, str(invalid), 400)
    return redirect(url_for(".scorecard", month=month), 303)


def _scorecard_page(scores, month, error=None, status=200):
    """The scorecard page, with head office's form for whoever sees the firm."""
    chart = charts.bars([(s.branch[:5], float(s.score), f"{s.score:.1f}") for s in scores])
    first, last = scorecard_service.month_bounds(month)
    return private(render("manage/scorecard.html", status=status, scores=scores, month=month, error=error,
                          settings=scorecard_service.indicators(), head_office=sees_firm(g.userid), chart=chart,
                          first=first, last=last))


def _download(scores, month, fmt):
    """The scorecard as CSV or xlsx."""
    rows = export.table(scores)
    if fmt == "csv":
        body, mimetype = export.csv_bytes(rows), "text/csv; charset=utf-8"
    else:
        body, mimetype = export.xlsx_bytes(rows), XLSX
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename=scorecard-{month}.{fmt}"
    return private(response)


@bp.get("/wall")
@role_required(*VIEWERS)
def wall():
    """大屏: today's openings and the month's ranking of the viewer's branch, dark, refreshing itself."""
    advisors = _scope()
    now = datetime.now(CHINA)
    figures = openings_service.live(advisors, now, firm=sees_firm(g.userid))
    scores = scorecard_service.scorecard(advisors, now.strftime("%Y-%m"))
    return private(render("manage/wall.html", live=figures, scores=scores, kinds=openings_service.KIND_LABELS,
                          poll=POLL_SECONDS, mask_account=mask_account))
