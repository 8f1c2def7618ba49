"""Query parameters and URL parts, parsed in one place: a malformed one is a 400 (a URL part, a 404).

Every query string is checked before any view or template reads it: UTF-8 text without control
characters (PostgreSQL refuses NUL, and werkzeug cannot decode raw bytes that are not UTF-8). Views
then read numbers, dates and choices through the helpers below, which refuse what the database or
date arithmetic could not take (a 30-digit page, the year 9999) with a Chinese reason.
"""
import re
from datetime import date, timedelta
from urllib.parse import parse_qsl

from flask import abort, request
from werkzeug.routing import IntegerConverter, UnicodeConverter, ValidationError

from .models import EARLIEST_DAY, china_today

CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
MAX_ID = 2**31 - 1  # PostgreSQL's integer: no row has a larger id, no page is further
WHOLE_NUMBER = re.compile(r"[0-9]{1,10}")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
YEARS_AHEAD = 5  # the latest date a filter may name: nothing of ours is dated later


def check_query_string():
    """400 unless the query string is UTF-8 text without control characters (runs before every view)."""
    try:
        pairs = parse_qsl(request.query_string.decode(), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        abort(400, "查询参数不是有效的 UTF-8 文本")
    if any(CONTROL.search(key) or CONTROL.search(value) for key, value in pairs):
        abort(400, "查询参数不能包含控制字符")


def int_arg(name, default=None, low=1, high=MAX_ID):
    """The parameter as a whole number in [low, high]; default when absent or empty; else 400."""
    text = request.args.get(name, "").strip()
    if not text:
        return default
    if not WHOLE_NUMBER.fullmatch(text) or not low <= int(text) <= high:
        abort(400, f"参数 {name} 应为 {low} 到 {high} 之间的整数")
    return int(text)


def date_arg(name):
    """The parameter as an ISO date from 1990 to a few years ahead; None when absent or empty; else 400."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    latest = date(china_today().year + YEARS_AHEAD, 12, 31)
    try:
        day = date.fromisoformat(text) if ISO_DATE.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None or not EARLIEST_DAY <= day <= latest:
        abort(400, f"参数 {name} 应为 {EARLIEST_DAY.isoformat()} 到 {latest.isoformat()} 之间的日期"
                   "（年-月-日）")
    return day


def date_range_arg(since_name="since", until_name="until", days=30):
    """(since, until), China dates, both included: by default the last `days` days up to today; 400 when
    either is malformed or since is after until."""
    until = date_arg(until_name) or china_today()
    since = date_arg(since_name) or until - timedelta(days=days - 1)
    if since > until:
        abort(400, f"参数 {since_name} 不能晚于 {until_name}")
    return since, until


def choice_arg(name, choices, default=""):
    """The parameter if it is one of choices; default when absent or empty; else 400."""
    value = request.args.get(name, "")
    if not value:
        return default
    if value not in choices:
        abort(400, f"参数 {name} 的值无效")
    return value


def text_arg(name, limit):
    """The parameter stripped and cut to limit characters ('' when absent): a search needs no more."""
    return request.args.get(name, "").strip()[:limit]


class TextConverter(UnicodeConverter):
    """A path segment (`<name>`) without control characters; one with them matches no route."""

    def to_python(self, value):
        """The segment, or ValidationError (a 404)."""
        if CONTROL.search(value):
            raise ValidationError()
        return value


class IdConverter(IntegerConverter):
    """`<int:name>` up to MAX_ID; a longer number matches no route instead of overflowing the database."""

    def to_python(self, value):
        """The id, or ValidationError (a 404); int() is never asked to read thousands of digits."""
        if len(value) > len(str(MAX_ID)) or int(value) > MAX_ID:
            raise ValidationError()
        return super().to_python(value)


def init_app(app):
    """Check every query string first; bound the URL converters (before any blueprint adds a rule)."""
    app.url_map.converters.update(default=TextConverter, string=TextConverter, int=IdConverter)
    app.before_request(check_query_string)
