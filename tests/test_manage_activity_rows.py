"""Every figure of /manage/activity links to the rows behind it, and those rows, added up here as the page says
it adds them (reply rate and first-reply time weighted by each day's chats), give the figure back; masked, scoped."""
import re
from urllib.parse import urlsplit

import pytest

from dept_helpers import REGION_MANAGER, ROOT_MANAGER
from helpers import signed_in
from test_activity_page import SINCE, SCOPES, UNTIL, activity_app  # noqa: F401 (the fixture)

CELL = re.compile(r'data-figure="(\w+)">(.*?)</(?:td|strong)>', re.S)
LINK = re.compile(r'^<a href="([^"]+)">([^<]*)</a>$')


def get(client, url):
    """The HTML of a GET that must succeed, uncached."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def linked_figures(html, selector):
    """(figure, shown text, link) of each data-figure in the element starting with selector; fails on a bare figure."""
    block = re.search(rf"{selector}(.*?)</(?:tr|ul)>", html, re.S).group(1)
    found = []
    for key, inner in CELL.findall(block):
        link = LINK.match(inner.strip())
        assert link, f"{selector} {key} links to nothing: {inner!r}"
        found.append((key, link.group(2), link.group(1).replace("&amp;", "&")))
    return found


def section(html, anchor):
    """The HTML of the rows page's section with that id."""
    return re.search(rf'<section class="card" id="{anchor}">(.*?)</section>', html, re.S).group(1)


def day_rows(html):
    """The statistics days of a rows page: [{figure: text}] (the total line left out)."""
    body = re.search(r"<tbody>(.*?)</tbody>", section(html, "days"), re.S)
    rows = re.findall(r"<tr data-day=[^>]*>(.*?)</tr>", body.group(1), re.S) if body else []
    return [dict(re.findall(r'data-figure="(\w+)">([^<]*)<', row)) for row in rows]


def from_rows(html, key):
    """The figure worked out here from the rows the page links to."""
    days = day_rows(html)
    if key in ("chats", "messages", "new_contacts", "lost_contacts"):
        return str(sum(int(d[key]) for d in days))
    if key in ("reply_rate", "first_reply"):
        rated = [d for d in days if d[key] != "—" and int(d["chats"])]
        weight = sum(int(d["chats"]) for d in rated)
        if not weight:
            return "—"
        value = sum(float(d[key].rstrip("%")) * int(d["chats"]) for d in rated) / weight
        return f"{value:.1f}%" if key == "reply_rate" else f"{value:.1f}"
    if key == "group_messages":
        return str(sum(int(n) for n in re.findall(r'data-figure="group_messages">(\d+)<', section(html, "groups"))))
    if key == "funded_on_wecom":
        return str(len(re.findall(r"<li data-account=", section(html, "funded"))))
    raise AssertionError(key)


@pytest.mark.parametrize("manager", ["zhouqiang", REGION_MANAGER])
def test_each_advisors_figures_and_the_totals_are_the_sum_of_the_rows_they_link_to(activity_app, manager):
    client = signed_in(activity_app, manager)
    html = get(client, f"/manage/activity?since={SINCE}&until={UNTIL}")
    checked = 0
    for selector in ['data-row="total">', *(f'<tr data-advisor="{u}">' for u in sorted(SCOPES[manager]))]:
        for key, shown, url in linked_figures(html, selector):
            rows = get(client, url)
            assert from_rows(rows, key) == shown, (selector, key, url)
            anchor = urlsplit(url).fragment
            assert anchor and f'id="{anchor}"' in rows, (key, url)
            checked += 1
    assert checked == 6 + 8 * len(SCOPES[manager])


def test_the_rows_page_works_out_the_weighted_reply_rate_beside_its_days(activity_app):
    """zhangwei: 10 chats at 90 %, 30 at 50 %, a day without chats left out: (900 + 1500) / 40 = 60 %; first reply
    (30 + 270) / 40 = 7.5 minutes."""
    rows = get(signed_in(activity_app, "zhouqiang"),
               f"/manage/activity/rows?advisor=zhangwei&since={SINCE}&until={UNTIL}")
    total = dict(re.findall(r'data-figure="(\w+)">([^<]*)<', re.search(r'<tr data-row="total">(.*?)</tr>', rows, re.S)
                            .group(1)))
    assert (total["reply_rate"], total["first_reply"], total["chats"]) == ("60.0%", "7.5", "40")


@pytest.mark.parametrize("manager,branches", [
    ("zhouqiang", {"浦东营业部": ["****0001", "****0002", "****0091"]}),
    (ROOT_MANAGER, {"浦东营业部": ["****0001", "****0002", "****0091"], "徐汇营业部": ["****0001", "****0002"],
                    "总部直属": ["****0092"]})])
def test_coverage_figures_link_to_the_funded_clients_behind_them_masked_and_scoped(activity_app, manager, branches):
    client = signed_in(activity_app, manager)
    html = get(client, f"/manage/activity?since={SINCE}&until={UNTIL}")
    for name in [*branches, "合计"]:
        for key, shown, url in linked_figures(html, f'<tr data-branch="{name}">'):
            rows = get(client, url)
            clients = re.findall(r'<li data-account="([^"]+)" data-reachable="([01])"', rows)
            funded, reachable = len(clients), sum(flag == "1" for _, flag in clients)
            assert shown == {"funded": str(funded), "reachable": str(reachable),
                             "rate": f"{reachable / funded * 100:.1f}%"}[key], (name, key)
            expected = branches[name] if name != "合计" else [a for accounts in branches.values() for a in accounts]
            assert sorted(a for a, _ in clients) == sorted(expected), (name, key)
            assert "880000000" not in rows and "88pd" not in rows and "88xh" not in rows, "accounts masked"
    other = get(client, "/manage/activity/coverage?branch=徐汇营业部")
    assert ("****0001" in other) == (manager == ROOT_MANAGER), "another tree's branch shows nothing"
