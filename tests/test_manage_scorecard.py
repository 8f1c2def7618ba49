"""分支机构考核: each indicator and contribution worked out by hand from seeded rows, the ranking, head
office's settings, and the exports limited to the viewer's branch."""
import csv
import io
import re
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from defusedxml import ElementTree

from helpers import signed_in
from manage_helpers import COMPLIANCE, MANAGER, add_contact, add_profile, seed_branches
from sidebar.extensions import db
from sidebar.models import AssetSnapshot, Follow
from sop_helpers import utc

MONTH = "2026-11"


@pytest.fixture
def score_app(app):
    """November in two branches: fundings, asset snapshots and follows, no SOP tasks."""
    seed_branches(app)
    with app.app_context():
        for ext, advisor, account, stage, dates in (
                ("wm_s1", "zhangwei", "880000000201", "funded", {"funded": "2026-11-05"}),
                ("wm_s2", "zhangwei", "880000000202", "funded", {"funded": "2026-10-01"}),
                ("wm_s3", "zhangwei", "880000000203", "opened", {"opened": "2026-11-06"}),
                ("wm_s4", "lina", "880000000204", "funded", {"funded": "2026-11-20"}),
                ("wm_s5", "wangfang", "880000000205", "funded", {"funded": "2026-11-02"}),
                ("wm_s6", "wangfang", "880000000206", "funded", {"funded": "2026-11-03"})):
            add_contact(ext, advisor, "2026-09-01 10:00")
            add_profile(ext, account, stage, **dates)
        db.session.flush()
        db.session.execute(db.update(Follow).where(Follow.external_userid == "wm_s2").values(ended_at=utc("2026-11-10 09:00")))
        for account, day, amount in (("880000000201", "2026-10-31", 100000), ("880000000201", "2026-11-15", 150000),
                                     ("880000000201", "2026-11-30", 300000), ("880000000202", "2026-10-20", 50000),
                                     ("880000000202", "2026-11-10", 40000), ("880000000204", "2026-11-25", 1000000),
                                     ("880000000205", "2026-11-30", 6000000), ("880000000201", "2026-12-01", 999999)):
            db.session.add(AssetSnapshot(account_id=account, day=date.fromisoformat(day), total_assets=Decimal(amount)))
        db.session.commit()
    return app


def branch_section(page, branch):
    """The text of one branch's section."""
    return re.search(rf'<section class="card branch-score" data-branch="{branch}">(.*?)</section>', page, re.S).group(1)


def contributions(section):
    """indicator -> contribution shown."""
    return dict(re.findall(r'data-indicator="(\w+)">.*?data-figure="contribution">([\d.]+)<', section, re.S))


def test_the_branches_scored_indicator_by_indicator_and_ranked(score_app):
    """Branch 3: funded in November s1, s4 = 2 → 2/10 × 40 = 8.00; assets s1 100,000 → 300,000, s2 50,000 → 40,000,
    s4 0 → 1,000,000 = 1,190,000 → /5,000,000 × 30 = 7.14; coverage: s1, s4 of s1, s2, s4 (s2's follow ended) = 2/3
    → /0.8 × 20 = 16.67; no SOP tasks → 0; total 31.81.
    Branch 4: 2 → 8.00; 6,000,000 → capped 1.2 × 30 = 36.00; coverage 1 → capped 24.00; total 68.00, first."""
    firm = signed_in(score_app, COMPLIANCE).get(f"/manage/scorecard?month={MONTH}").get_data(as_text=True)
    three, four = branch_section(firm, "部门 3"), branch_section(firm, "部门 4")
    assert contributions(three) == {"new_funded": "8.00", "net_new_assets": "7.14", "coverage": "16.67",
                                    "sop_on_time": "0.00"}
    assert contributions(four) == {"new_funded": "8.00", "net_new_assets": "36.00", "coverage": "24.00",
                                   "sop_on_time": "0.00"}
    assert "第 1 名 · 部门 4" in four and "31.81" in three and "第 2 名 · 部门 3" in three
    assert "119.00万" in three  # the net new assets as shown


def test_a_manager_sees_and_exports_only_their_branch(score_app):
    manager = signed_in(score_app, MANAGER)
    page = manager.get(f"/manage/scorecard?month={MONTH}").get_data(as_text=True)
    assert "部门 4" not in page and "第 1 名 · 部门 3" in page
    assert 'id="indicators"' not in page, "only head office sets the indicators"
    answer = manager.get(f"/manage/scorecard?month={MONTH}&format=csv")
    assert answer.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(answer.get_data().decode("utf-8-sig"))))
    assert rows[0][:2] == ["排名", "网点"] and [row[1] for row in rows[1:]] == ["部门 3"]
    assert rows[1][-1] == "31.81"
    book = zipfile.ZipFile(io.BytesIO(manager.get(f"/manage/scorecard?month={MONTH}&format=xlsx").get_data()))
    sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    cells = [[c.findtext("m:v", namespaces=ns) or c.findtext("m:is/m:t", namespaces=ns) for c in row]
             for row in sheet.findall("m:sheetData/m:row", ns)]
    assert cells[1][:2] == ["1", "部门 3"] and cells[1][-1] == "31.81" and len(cells) == 2
    firm = signed_in(score_app, COMPLIANCE).get(f"/manage/scorecard?month={MONTH}&format=csv").get_data().decode("utf-8-sig")
    assert "部门 4" in firm


def test_head_office_sets_targets_and_weights_and_nobody_else_may(score_app):
    form = {"target_new_funded": "2", "weight_new_funded": "50", "target_net_new_assets": "1190000",
            "weight_net_new_assets": "30", "target_coverage": "0.8", "weight_coverage": "10",
            "target_sop_on_time": "0.9", "weight_sop_on_time": "10"}
    manager, head = signed_in(score_app, MANAGER), signed_in(score_app, COMPLIANCE)
    assert manager.post("/manage/scorecard/indicators", data={"csrf_token": manager.csrf, **form}).status_code == 403
    assert head.post("/manage/scorecard/indicators", data=form).status_code == 400, "CSRF token required"
    bad = head.post("/manage/scorecard/indicators", data={"csrf_token": head.csrf, **form, "target_coverage": "abc"})
    assert bad.status_code == 400 and "企微覆盖率的目标应为数字" in bad.get_data(as_text=True)
    saved = head.post(f"/manage/scorecard/indicators?month={MONTH}", data={"csrf_token": head.csrf, **form})
    assert saved.status_code == 303
    page = head.get(saved.location).get_data(as_text=True)
    # branch 3 now: 2/2 × 50 = 50; 1,190,000/1,190,000 × 30 = 30; (2/3)/0.8 × 10 = 8.33; total 88.33
    assert contributions(branch_section(page, "部门 3")) == {"new_funded": "50.00", "net_new_assets": "30.00",
                                                            "coverage": "8.33", "sop_on_time": "0.00"}
    assert "88.33" in page
    assert head.get("/manage/scorecard?month=2026-13").status_code == 400


def test_each_indicator_opens_the_clients_behind_it_masked_and_scoped(score_app):
    manager = signed_in(score_app, MANAGER)
    page = manager.get(f"/manage/scorecard?month={MONTH}").get_data(as_text=True)
    assert "/manage/scorecard/rows?month=2026-11&amp;branch=%E9%83%A8%E9%97%A8+3&amp;indicator=coverage" in page
    rows = lambda indicator, branch="部门 3": manager.get(  # noqa: E731
        f"/manage/scorecard/rows?month={MONTH}&branch={branch}&indicator={indicator}").get_data(as_text=True)
    funded = rows("new_funded")
    assert sorted(re.findall(r'data-contact="(\w+)"', funded)) == ["wm_s1", "wm_s4"]
    assert "****0201" in funded and "880000000201" not in funded
    assets = rows("net_new_assets")
    changes = dict(re.findall(r'data-contact="(\w+)">.*?data-figure="change">([^<]+)<', assets, re.S))
    assert changes == {"wm_s1": "20.00万", "wm_s2": "-1.00万", "wm_s4": "100.00万"}
    coverage = rows("coverage")
    followed = dict(re.findall(r'data-contact="(\w+)">.*?data-figure="followed">(.)<', coverage, re.S))
    assert followed == {"wm_s1": "是", "wm_s2": "否", "wm_s4": "是"}
    assert "wm_s5" not in rows("new_funded", "部门 4"), "another branch's clients are not the manager's"
