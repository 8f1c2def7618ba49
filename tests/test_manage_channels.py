"""The workbench by acquisition channel: the funnel's cohort per channel and the channel of each opening,
worked out by hand from the seeded rows, in the manager's scope."""
import re
from datetime import datetime

import pytest

from acquisition_helpers import add_arrival
from helpers import signed_in
from manage_helpers import COMPLIANCE, MANAGER, OTHER_MANAGER, SINCE, UNTIL, seed_channels, seed_funnel
from sidebar.extensions import db
from sidebar.models import CHINA
from sidebar.sync.profiles import import_profiles

PERIOD = f"since={SINCE}&until={UNTIL}"


@pytest.fixture
def channel_app(app):
    """November's cohort in two branches, brought by 地推 and 直播."""
    seed_funnel(app)
    seed_channels(app)
    return app


def channel_rows(page):
    """{channel: (added, opened, funded, median days)} of the page's 按渠道 table."""
    table = re.search(r'id="funnel-channel">(.*?)</section>', page, re.S).group(1)
    rows = {}
    for name, cells in re.findall(r'<tr data-channel="([^"]+)">(.*?)</tr>', table, re.S):
        values = re.findall(r'data-step="\w+">([^<]*)<', cells)
        rows[name] = tuple(values)
    return rows


def test_the_funnel_by_channel_counts_the_branchs_cohort_by_first_arrival(channel_app):
    """Branch 3's November cohort: c1, c2, c3, c5, c6, l1 (see test_manage_funnel).
    地推: c1 (opened 11-05, funded 11-06), c2 (opened 11-20) → 2 added, 2 opened, 1 funded; days added → opened
    c1 11-02→11-05 = 3, c2 11-10→11-20 = 10, median 6.5.
    直播: c6 (came by 直播 first, by 地推 later: 直播's; no profile), l1 (added 11-08, opened 11-09) → 2, 1, 0; 1 day.
    未知渠道: c3 (no profile), c5 (funded in December only) → 2, 0, 0; no days.
    w1 (branch 4, 直播) is not the manager's: 直播 stays at 2.
    """
    page = signed_in(channel_app, MANAGER).get(f"/manage/funnel?{PERIOD}").get_data(as_text=True)
    rows = channel_rows(page)
    assert rows == {"地推": ("2", "2", "1", "6.5"), "直播": ("2", "1", "0", "1"), "未知渠道": ("2", "0", "0", "—")}
    assert list(rows)[-1] == "未知渠道", "the unknown channel comes last"


def test_another_branchs_manager_sees_only_their_own_cohort_by_channel(channel_app):
    """徐汇 (department 4): w1 only, by 直播, opened 11-04 the day after being added 11-03, funded 11-07."""
    page = signed_in(channel_app, OTHER_MANAGER).get(f"/manage/funnel?{PERIOD}").get_data(as_text=True)
    assert channel_rows(page) == {"直播": ("1", "1", "1", "1")}
    assert "地推" not in page


def test_compliance_sees_the_whole_firm_by_channel(channel_app):
    """Both branches: 直播 gains w1 (3 added, 2 opened, 1 funded; days 1 and 1: the mean of the middle two, 1.0)."""
    page = signed_in(channel_app, COMPLIANCE).get(f"/manage/funnel?{PERIOD}").get_data(as_text=True)
    assert channel_rows(page)["直播"] == ("3", "2", "1", "1.0")
    assert channel_rows(page)["地推"] == ("2", "2", "1", "6.5")


@pytest.fixture
def opening_app(app):
    """Two clients of branch 3 open today: one came by 直播 (then by 地推 again), one by no channel."""
    from manage_helpers import add_contact, seed_branches, seed_other_manager

    seed_branches(app)
    seed_other_manager(app)
    today = datetime.now(CHINA).date().isoformat()
    with app.app_context():
        add_contact("wo_x", "zhangwei", "2026-10-01 10:00", name="客户x", unionid="u_wo_x")
        add_contact("wo_y", "lina", "2026-10-01 10:00", name="客户y", unionid="u_wo_y")
        add_contact("wo_z", "wangfang", "2026-10-01 10:00", name="客户z", unionid="u_wo_z")
        add_arrival("直播", "wo_x", "2026-10-01 09:55")
        add_arrival("地推", "wo_x", "2026-10-20 09:55")
        add_arrival("社群", "wo_z", "2026-10-01 09:55", userid="wangfang")
        db.session.commit()
        rows = [{"account_id": f"88000000020{i}", "unionid": f"u_wo_{who}", "stage": "opened",
                 "stage_dates": {"opened": today}} for i, who in enumerate("xyz", start=1)]
        assert import_profiles(rows).accepted == 3
    return app


def opening(page, account_tail):
    """The text of the opening of the masked account ****tail, or None."""
    found = re.search(rf'<li class="opening" data-account="\*\*\*\*{account_tail}">(.*?)</li>', page, re.S)
    return found.group(1) if found else None


def test_an_opening_shows_the_channel_of_the_clients_first_arrival(opening_app):
    page = signed_in(opening_app, MANAGER).get("/manage/openings").get_data(as_text=True)
    assert "渠道：直播" in opening(page, "0201"), "the first arrival's channel, not the later 地推"
    assert "渠道：未知渠道" in opening(page, "0202")
    assert opening(page, "0203") is None and "社群" not in page, "another branch's opening is not shown"
    rows = signed_in(opening_app, MANAGER).get("/manage/openings/rows?kind=opened").get_data(as_text=True)
    assert "渠道：直播" in rows and "社群" not in rows
    other = signed_in(opening_app, OTHER_MANAGER).get("/manage/openings").get_data(as_text=True)
    assert "渠道：社群" in opening(other, "0203") and opening(other, "0201") is None
