"""A group plan's effect in the console: the groups on the plan vs the other groups, by their daily
snapshots over the same window (×clients, ×assets), computed here from the seeded snapshot rows."""
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from helpers import signed_in
from sidebar.extensions import db
from sidebar.models import GroupSnapshot
from sop_helpers import add_group, live_plan, run_tick

OPERATOR = "chenjing"
START, END = date(2026, 10, 1), date(2026, 11, 20)
# chat_id: (clients, assets) at START and at END; wrONA/wrONB on the plan, the others not
FIGURES = {"wrONA": ((10, 100_000), (50, 1_500_000)), "wrONB": ((0, 0), (10, 300_000)),
           "wrOFFC": ((10, 200_000), (12, 260_000)), "wrOFFD": ((20, 300_000), (24, 340_000))}


@pytest.fixture
def console_app(library_app):
    """The console with an operator."""
    from sidebar.identity.service import grant_role

    with library_app.app_context():
        grant_role(OPERATOR, "operator")
        db.session.commit()
    return library_app


def snapshot(chat_id, day, clients, assets):
    """One day's figures of a group."""
    db.session.add(GroupSnapshot(chat_id=chat_id, day=day, members=clients + 5, staff=2, externals=clients + 3,
                                 clients=clients, opened=clients, funded=clients, client_assets=Decimal(assets)))


def times(end, start):
    """×N as the page writes it (one decimal below 10, none from 10)."""
    ratio = end / start
    number = f"{ratio:.{0 if ratio >= 10 else 1}f}".removesuffix(".0")
    return f"{'↑' if ratio > 1 else '↓'}{number}×"


def test_the_groups_on_the_plan_are_compared_with_the_others_over_the_same_window(console_app):
    with console_app.app_context():
        for chat_id in FIGURES:
            add_group(chat_id, f"群{chat_id}", "zhangwei")
        db.session.commit()
    plan_id = live_plan(console_app, {"name": "样板间新群培育", "kind": "group", "groups": ["wrONA", "wrONB"],
                                      "steps": [{"at": {"day": 0, "time": "10:00"}, "window_minutes": 60,
                                                 "text": "欢迎", "materials": []}], "holdout": 0})
    run_tick(console_app, "2026-10-01 09:00")  # the groups join the plan on START
    with console_app.app_context():
        for chat_id, (first, last) in FIGURES.items():
            snapshot(chat_id, START - timedelta(days=5), 1, 1)  # before the window: not counted
            snapshot(chat_id, START, *first)
            snapshot(chat_id, START + timedelta(days=20), 99, 99)  # in between: not an end
            snapshot(chat_id, END, *last)
        db.session.commit()

    page = signed_in(console_app, OPERATOR).get(f"/console/sop/{plan_id}").get_data(as_text=True)
    assert "2026-10-01 至 2026-11-20" in page
    on = re.sub(r"\s+", " ", re.search(r'<tr data-arm="计划内的群">(.*?)</tr>', page, re.S).group(1))
    off = re.sub(r"\s+", " ", re.search(r'<tr data-arm="其他群">(.*?)</tr>', page, re.S).group(1))
    on_start, on_end = 10 + 0, 50 + 10
    off_start, off_end = 10 + 20, 12 + 24
    assert f"<td>2</td> <td>{on_start} → {on_end}</td><td>{times(on_end, on_start)}</td>" in on
    assert f"<td>2</td> <td>{off_start} → {off_end}</td><td>{times(off_end, off_start)}</td>" in off
    assert times(1_500_000 + 300_000, 100_000) in on and times(260_000 + 340_000, 200_000 + 300_000) in off
    assert "仅供参考" in page, "two groups a side prove nothing"


def test_a_client_plan_or_a_plan_without_groups_shows_no_group_effect(console_app):
    plan_id = live_plan(console_app, {"name": "每日早盘要点", "kind": "group", "groups": ["wrNOBODY"],
                                      "steps": [{"at": {"trading_days": "08:45"}, "window_minutes": 60,
                                                 "text": "早上好", "materials": []}], "holdout": 0})
    page = signed_in(console_app, OPERATOR).get(f"/console/sop/{plan_id}").get_data(as_text=True)
    assert "计划内的群" not in page
