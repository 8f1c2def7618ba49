"""Craft (issue 17) without a browser: one date filter in China time, growth as ↑N×, a trend's axis,
the journey's order, errors that offer 重试, the group's member list behind a count and a search, what
a WeCom outage still allows, and one vocabulary (the README's glossary)."""
import re
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from werkzeug.exceptions import InternalServerError, NotFound, ServiceUnavailable

from helpers import advisors, login
from sidebar.insight.charts import TREND_HEIGHT, trend
from sidebar.insight.contact import journey
from sidebar.domain.facts import Figure
from sidebar.models import STAGES, china_today
from sidebar.web import handle_http_error, local_date
from test_panels import fault

ROOT = Path(__file__).resolve().parent.parent
YEAR = china_today().year


# -- dates ----------------------------------------------------------------------------------------

def test_one_date_filter_shows_china_days_with_the_year_only_when_not_this_year():
    assert local_date(date(YEAR, 5, 28)) == "05-28"
    assert str(local_date(date(YEAR - 1, 5, 28))) == f"{YEAR - 1}-<wbr>05-28"
    assert local_date(datetime(YEAR, 5, 27, 17, 30)) == "05-28", "stored UTC, shown as the China day"
    assert local_date(datetime(YEAR, 5, 27, 17, 30), time=True) == "05-28 01:30"
    assert str(local_date(datetime(YEAR + 1, 1, 1, 1), time=True)) == f"{YEAR + 1}-<wbr>01-01 09:00"
    assert local_date(datetime(YEAR, 5, 27, 17, 30), "%Y-%m-%d %H:%M:%S") == f"{YEAR}-05-28 01:30:00"
    assert local_date(None) == "—"


def test_the_journey_uses_the_china_day_and_puts_an_older_history_before_the_add():
    follow = SimpleNamespace(added_at=datetime(YEAR, 5, 27, 17, 30))
    dated = {"registered": f"{YEAR - 2}-01-05", "applying": f"{YEAR - 2}-01-06", "opened": f"{YEAR - 2}-01-09",
             "funded": f"{YEAR - 2}-02-01", "traded": f"{YEAR}-06-01"}
    steps = journey(follow, SimpleNamespace(stage="traded", stage_dates=dated))
    assert [s.key for s in steps] == ["registered", "applying", "opened", "funded", "added", "traded"]
    assert next(s.day for s in steps if s.key == "added") == date(YEAR, 5, 28)
    assert all(s.state == "done" for s in steps if s.key != "traded")
    fresh = journey(follow, SimpleNamespace(stage="opened", stage_dates={"opened": f"{YEAR}-06-01"}))
    assert [s.key for s in fresh] == ["added", *STAGES], "a client who came through WeCom starts with the add"


# -- numbers --------------------------------------------------------------------------------------

@pytest.mark.parametrize("now, start, times, direction", [
    (150, 10, "↑15×", "up"), (50, 10, "↑5×", "up"), (13, 10, "↑1.3×", "up"), (5, 10, "↓0.5×", "down"),
    (10, 10, "持平", "flat"), (10, 0, "—", ""), (10, None, "—", "")])
def test_growth_reads_as_an_arrow_and_a_multiple(now, start, times, direction):
    figure = Figure("clients", "客户", now, start, None)
    assert (figure.times, figure.direction) == (times, direction)


def heights(series_trend):
    """The y of each point of a drawn trend."""
    return [float(point.split(",")[1]) for point in series_trend.points.split()]


def test_a_small_dip_stays_a_ripple_and_real_growth_fills_the_box():
    days = [date(YEAR, 1, 1).toordinal() + i for i in range(90)]
    dip = trend([(date.fromordinal(d), 100000.0) for d in days[:-1]] + [(date.fromordinal(days[-1]), 99900.0)])
    ys = heights(dip)
    assert max(ys) - min(ys) < 0.02 * TREND_HEIGHT, "−0.1 % is not a deep V"
    growth = trend([(date.fromordinal(d), 10 + i * 140 / 89) for i, d in enumerate(days)])
    ys = heights(growth)
    assert max(ys) - min(ys) > 0.8 * TREND_HEIGHT


# -- errors ---------------------------------------------------------------------------------------

def test_errors_worth_retrying_offer_retry_in_place(app):
    def answer(error, method="GET", htmx=True):
        """The error as answered, without the page's offline notice (a <template>)."""
        headers = {"HX-Request": "true"} if htmx else {}
        with app.test_request_context(method=method, headers=headers):
            html = handle_http_error(error).get_data(as_text=True)
        return re.sub(r'<template id="offline-notice">.*?</template>', "", html, flags=re.S)

    fragment = answer(InternalServerError(), "POST")
    assert "服务器出错了" in fragment and "重试" in fragment and "<html" not in fragment
    assert "重试" in answer(ServiceUnavailable("企业微信暂时无法访问"), htmx=False), "a page that was a GET reloads"
    assert "重试" not in answer(InternalServerError(), "POST", htmx=False), "a posted page is not sent again"
    assert "重试" not in answer(NotFound()), "trying again does not find it"


def test_wecom_down_says_what_still_works(client, emulator, world):
    userid = advisors(world)[0]
    login(client, userid)
    follows = [f["external_userid"] for f in world["follows"] if f["userid"] == userid]
    assert client.get(f"/sidebar/contacts/{follows[0]}").status_code == 200
    fault(emulator, down=True)
    unknown = client.get(f"/sidebar/contacts/{follows[1]}", headers={"HX-Request": "true"})
    assert unknown.status_code == 503
    assert "打开过的客户和客户群仍可查看" in unknown.get_data(as_text=True)
    assert "重试" in unknown.get_data(as_text=True)
    known = client.get(f"/sidebar/contacts/{follows[0]}").get_data(as_text=True)
    assert "数据更新于" in known and "资料和跟进记录照常可看、可写" in known


# -- the group panel ------------------------------------------------------------------------------

def member_ids(html):
    """Listed members, in order."""
    return re.findall(r'<li class="member" data-member="([^"]+)"', html)


def test_the_member_list_is_behind_a_count_and_a_search(client, world):
    group = next(g for g in world["groups"] if len(g["members"]) > 5)
    login(client, group["owner"])
    panel = client.get(f"/sidebar/groups/{group['chat_id']}").get_data(as_text=True)
    assert member_ids(panel) == [] and f"{len(group['members'])} 人" in panel and 'name="q"' in panel
    assert panel.index('id="group-conversion"') < panel.index("成员构成") < panel.index('id="group-members"'), \
        "the conversion story first, the members last"
    htmx = {"HX-Request": "true"}
    everyone = client.get(f"/sidebar/groups/{group['chat_id']}/members?show=all", headers=htmx).get_data(as_text=True)
    assert sorted(member_ids(everyone)) == sorted(m["userid"] for m in group["members"])
    name = next(m["name"] for m in group["members"] if m["type"] == 2 and len(m["name"]) > 1)
    found = client.get(f"/sidebar/groups/{group['chat_id']}/members", query_string={"q": name[1:]},
                       headers=htmx).get_data(as_text=True)
    want = {m["userid"] for m in group["members"] if name[1:] in (m["name"] or "") + (m.get("group_nickname") or "")}
    assert member_ids(found) and set(member_ids(found)) <= want | {m["userid"] for m in group["members"]
                                                                   if m["type"] == 1}
    nobody = client.get(f"/sidebar/groups/{group['chat_id']}/members", query_string={"q": "不存在的名字"},
                        headers=htmx).get_data(as_text=True)
    assert member_ids(nobody) == [] and "没有名称包含“不存在的名字”的成员" in nobody


# -- one vocabulary -------------------------------------------------------------------------------

# The README's glossary: 物料 (not 素材), 发送 (not 分享), 无有效测评 for a missing or expired assessment,
# 未注册 for a member with no trading account (a WeCom tag may be named 潜在客户).
OTHER_WORDS = ("素材", "分享", "未测评/已过期", "未测评或已过期", "风险未知", "未知/过期", "潜在客户", "发通用内容")
WECOMS_OWN = ("名片分享",)  # WeCom's name of an add way, shown as WeCom says it


def ui_sources():
    """Our templates and scripts, and the Python modules whose strings reach the pages."""
    yield from (ROOT / "templates").rglob("*.html")
    yield from (ROOT / "static" / "js").glob("*.js")
    for module in (ROOT / "sidebar").rglob("*.py"):
        # the emulator is WeCom's own UI; demo content is the firm's copy, not our words
        if "emulator" not in module.parts and module.name not in ("demo.py", "demo_data.py"):
            yield module


def test_the_pages_use_the_glossarys_words():
    def ours(path):
        """The file's text without WeCom's own terms."""
        text = path.read_text(encoding="utf-8")
        for term in WECOMS_OWN:
            text = text.replace(term, "")
        return text

    strays = [(path.relative_to(ROOT).as_posix(), word) for path in ui_sources() for word in OTHER_WORDS
              if word in ours(path)]
    assert strays == []
