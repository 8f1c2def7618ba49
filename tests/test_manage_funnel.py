"""The workbench's funnel: every figure worked out by hand from the seeded rows, and the branch scope."""
import re

import pytest

from helpers import signed_in
from manage_helpers import COMPLIANCE, MANAGER, SINCE, UNTIL, seed_funnel
from sidebar.extensions import db
from sidebar.manage import funnel
from sidebar.manage.scope import advisors_in_scope
from sidebar.models import JourneyEvent
from sidebar.sync.profiles import import_profiles

PERIOD = f"since={SINCE}&until={UNTIL}"


@pytest.fixture
def funnel_app(app):
    """November's cohort in two branches."""
    seed_funnel(app)
    return app


def cell(page, row, step):
    """The number a funnel table shows for a row (data attribute) and step."""
    found = re.search(rf'<tr {row}>.*?data-step="{step}">(\d+)<', page, re.S)
    return int(found.group(1)) if found else None


def test_the_managers_funnel_counts_the_branchs_november_cohort(funnel_app):
    """Branch 3 (zhangwei, lina), contacts added 11-01…11-30 by their owner:
    c1, c2, c3, c5, c6 (zhangwei's: lina followed c6 later), l1 — 6; c4 was added in October, w1 is branch 4.
    Registered by 11-30: c1, c2, l1 (3); opened: c1, c2, l1 (3); funded: c1 (c5's funding is in December) (1);
    traded: c1 (1). Median days added → registered: c1 1, c2 2 (l1 registered before being added: left out) = 1.5;
    registered → opened: c1 2, c2 8, l1 8 = 8; opened → funded: c1 1; funded → traded: c1 4.
    """
    manager = signed_in(funnel_app, MANAGER)
    page = manager.get(f"/manage/funnel?{PERIOD}").get_data(as_text=True)
    expected = {"added": 6, "registered": 3, "opened": 3, "funded": 1, "traded": 1}
    for step, count in expected.items():
        assert cell(page, 'data-step="' + step + '"', step) == count, step
    assert cell(page, 'data-advisor="zhangwei"', "added") == 5
    assert cell(page, 'data-advisor="lina"', "added") == 1
    assert cell(page, 'data-advisor="lina"', "opened") == 1
    assert "丙一" not in page and 'data-advisor="wangfang"' not in page
    with funnel_app.test_request_context():
        total = funnel.funnel({"zhangwei", "lina"}, *map(_day, (SINCE, UNTIL))).total
    assert [s.median_days for s in total.steps] == [None, 1.5, 8, 1, 4]
    assert [s.rate for s in total.steps] == [None, 0.5, 1.0, pytest.approx(1 / 3), 1.0]
    assert "50.0%" in page and "33.3%" in page


def test_every_figure_links_to_its_masked_rows_and_another_branchs_rows_are_not_found(funnel_app):
    manager = signed_in(funnel_app, MANAGER)
    page = manager.get(f"/manage/funnel/rows?step=opened&{PERIOD}").get_data(as_text=True)
    assert sorted(re.findall(r'data-contact="(\w+)"', page)) == ["wm_c1", "wm_c2", "wm_l1"]
    assert "****0001" in page and "880000000001" not in page, "account numbers masked"
    assert manager.get(f"/manage/funnel/rows?advisor=wangfang&{PERIOD}").status_code == 404
    assert "wm_w1" not in manager.get(f"/manage/funnel/rows?step=added&{PERIOD}").get_data(as_text=True)
    branch = manager.get(f"/manage/funnel/rows?step=added&advisor=lina&{PERIOD}").get_data(as_text=True)
    assert re.findall(r'data-contact="(\w+)"', branch) == ["wm_l1"]


def test_compliance_sees_the_whole_firm_and_an_advisor_nothing(funnel_app):
    firm = signed_in(funnel_app, COMPLIANCE).get(f"/manage/funnel?{PERIOD}").get_data(as_text=True)
    assert cell(firm, 'data-step="added"', "added") == 7
    assert cell(firm, 'data-step="funded"', "funded") == 2
    assert signed_in(funnel_app, "zhangwei").get("/manage/funnel").status_code == 403
    with funnel_app.app_context():
        assert advisors_in_scope(MANAGER) == {"zhangwei", "lina", "zhouqiang"}


def test_dormant_clients_and_the_ones_a_trade_won_back(funnel_app):
    """wm_d1 (no trade since 2025-03-01) is dormant; wm_z1's trade on 11-20, 200 days after its last one,
    wins it back (as the import learns it); wm_z2 traded again after 30 days: never dormant."""
    with funnel_app.app_context():
        from manage_helpers import add_contact
        add_contact("wm_z1", "zhangwei", "2025-01-01 10:00", "丁一", unionid="u_wm_z1")
        add_contact("wm_z2", "zhangwei", "2025-01-01 10:00", "丁二", unionid="u_wm_z2")
        db.session.commit()
        rows = [{"account_id": "880000000031", "unionid": "u_wm_z1", "stage": "traded",
                 "stage_dates": {"funded": "2025-02-01", "traded": "2025-02-02"}, "last_trade_date": "2026-05-04"},
                {"account_id": "880000000032", "unionid": "u_wm_z2", "stage": "traded",
                 "stage_dates": {"funded": "2025-02-01", "traded": "2025-02-02"}, "last_trade_date": "2026-10-21"}]
        assert import_profiles(rows).accepted == 2
        rows[0]["last_trade_date"], rows[1]["last_trade_date"] = "2026-11-20", "2026-11-20"
        assert import_profiles(rows).accepted == 2
        assert import_profiles(rows).accepted == 2  # sent again: nothing new happened
        assert db.session.scalar(db.select(db.func.count()).select_from(JourneyEvent)
                                 .where(JourneyEvent.kind == "woken")) == 1
    page = signed_in(funnel_app, MANAGER).get(f"/manage/funnel?{PERIOD}").get_data(as_text=True)
    assert re.search(r'data-figure="dormant">1<', page)
    assert re.search(r'data-figure="won-back">1<', page)
    rows_page = signed_in(funnel_app, MANAGER).get(f"/manage/funnel/rows?dormant=1&{PERIOD}").get_data(as_text=True)
    assert re.findall(r'data-contact="(\w+)"', rows_page) == ["wm_d1"]


def _day(text):
    """A date from ISO."""
    from datetime import date
    return date.fromisoformat(text)
