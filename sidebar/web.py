"""Page-or-fragment rendering, error pages, and the headers every response carries."""
from datetime import datetime, timezone

from flask import jsonify, make_response, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import HTTPException, NotFound, ServiceUnavailable

from .domain.access import NotVisible, Unavailable
from .extensions import htmx
from .masking import mask_free_text
from .models import CHINA, china_today

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'self'",
])

WECOM_UNAVAILABLE = "企业微信暂时无法访问，还没打开过的聊天暂时无法识别；打开过的客户和客户群仍可查看、记录跟进"
ERROR_MESSAGES = {
    400: "请求有误",
    401: "请先登录",
    403: "没有权限",
    404: "未找到，或您没有权限查看",
    405: "不支持的操作",
    413: "内容过大",
    429: "操作太频繁，请稍后再试",
    500: "服务器出错了，请稍后再试",
    503: "服务暂时不可用，请稍后再试",
}
RETRYABLE = {408, 429, 500, 502, 503, 504}  # trying again may work: the error offers 重试


def wants_fragment():
    """The one rule: an htmx request gets the fragment, unless boosted or restoring history."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(page, status=200, **context):
    """Render page, or its partial `_name.html` beside it for an htmx request."""
    folder, _, name = page.rpartition("/")
    template = f"{folder}/_{name}" if wants_fragment() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def private(response):
    """Client data must not be kept by the browser or any cache on the way."""
    response.headers["Cache-Control"] = "no-store"
    return response


def wants_json():
    """True for API calls and scripts' fetch(); htmx and page navigations want HTML."""
    if htmx:
        return False
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    scripted = request.headers.get("Sec-Fetch-Mode", "navigate") != "navigate"
    return best == "application/json" or scripted or request.path.startswith("/api/")


def handle_http_error(error):
    """Answer errors as JSON or as a Chinese page/fragment, by what the client wants."""
    message = ERROR_MESSAGES.get(error.code, error.name)
    detail = error.description if error.description != type(error).description else None
    if isinstance(error, CSRFError):
        detail = "页面已过期或来源不明，请刷新后重试"
    if wants_json():
        response = jsonify(error=message, detail=detail)
        response.status_code = error.code
    else:
        # 重试 repeats an htmx request in place (static/js/requests.js), or reloads a page that was a GET
        retry = error.code in RETRYABLE and (bool(htmx) or request.method == "GET")
        response = render("errors/error.html", status=error.code, code=error.code,
                          message=message, detail=detail, retry=retry)
    for name, value in (error.get_headers() if isinstance(error, HTTPException) else []):
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response


def handle_not_visible(_error):
    """Not the advisor's, or unknown: the same 404 either way, on every route."""
    return handle_http_error(NotFound())


def handle_unavailable(_error):
    """A chat never seen locally while WeCom cannot be asked: 503, and what still works."""
    return handle_http_error(ServiceUnavailable(WECOM_UNAVAILABLE))


def add_security_headers(response):
    """Headers on every response, errors included."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def local_date(value, fmt=None, time=False):
    """Every date the pages show: a China calendar day, with its year when that is not this year.

    value: a stored naive-UTC datetime (shown in China time) or a date (already a China day).
    05-28 this year, 2025-05-28 before or after it, with " 14:30" when time=True; the year may go
    to a line of its own in a narrow column (<wbr>). fmt: an explicit strftime format instead.
    """
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.replace(tzinfo=timezone.utc).astimezone(CHINA)
    if fmt:
        return value.strftime(fmt)
    shown = value.strftime("%m-%d %H:%M" if time else "%m-%d")
    if value.year == china_today().year:
        return shown
    return Markup(f"{value.year}-<wbr>{shown}")  # digits and separators only: nothing to escape


def money(value):
    """Amounts as advisors say them: 52.34万 from ten thousand up, else yuan with two decimals."""
    if value is None:
        return "—"
    amount = float(value)
    return f"{amount / 10000:,.2f}万" if abs(amount) >= 10000 else f"{amount:,.2f}"


def percent(value, signed=False):
    """0.1234 -> 12.3% (or +12.3%)."""
    if value is None:
        return "—"
    return f"{value * 100:{'+' if signed else ''}.1f}%"


def url_of_each(endpoint, name):
    """A function id -> url_for(endpoint, name=id), at the cost of one url_for for a whole list.

    The library lists 30 materials with two links each; url_for costs ~17 µs a call.
    """
    sentinel = 987654321
    head, tail = url_for(endpoint, **{name: sentinel}).split(str(sentinel))
    return lambda value: f"{head}{value}{tail}"


def init_app(app):
    """Register error handlers, response headers and template filters."""
    app.jinja_env.filters.update(local_date=local_date, money=money, percent=percent)
    app.jinja_env.filters["masked"] = mask_free_text  # free text people typed: numbers in it masked
    app.jinja_env.globals.update(url_of_each=url_of_each)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(NotVisible, handle_not_visible)  # domain errors mapped here once, not per view
    app.register_error_handler(Unavailable, handle_unavailable)
    app.after_request(add_security_headers)
