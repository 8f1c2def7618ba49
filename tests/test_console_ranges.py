"""Figures over a date range and the audit by material title (issue 17 item 8), in China time."""
import re
from datetime import datetime, time, timedelta

import pytest

from helpers import publish, signed_in
from sidebar.extensions import db
from sidebar.models import Material, Share, china_today


def add_shares(app, material, moments, advisor="zhangwei", status="sent"):
    """Sent shares of the material to a different client each, created at these naive UTC moments."""
    with app.app_context():
        version = db.session.get(Material, material).live
        for index, moment in enumerate(moments):
            db.session.add(Share(advisor=advisor, material_id=material, version_id=version.id, target_type="contact",
                                 target_id=f"wm{material}-{moment:%m%d%H%M}-{index}", target_name="客户",
                                 status=status, created_at=moment))
        db.session.commit()


def sent_column(client, query=""):
    """{material title: sent} of the figures page, and the page."""
    page = client.get("/console/figures" + query)
    html = page.get_data(as_text=True)
    rows = re.findall(r'<a href="/console/materials/\d+">([^<]+)</a></td>\s*<td>[^<]*</td>\s*'
                      r'<td class="num">(\d+)</td>', html)
    return {title: int(sent) for title, sent in rows}, page


@pytest.fixture
def content(library_app):
    return signed_in(library_app, "zhaomin")


def test_figures_count_the_last_30_china_days_by_default(library_app, content):
    today = china_today()
    material = publish(library_app, kind="link", title="ETF 入门")
    # 08:00 China time on a day is 00:00 UTC that day
    days_ago = [0, 29, 30, 45]
    add_shares(library_app, material, [datetime.combine(today - timedelta(days=d), time()) for d in days_ago])
    figures, page = sent_column(content)
    assert figures == {"ETF 入门": 2}, "today and 29 days ago; not 30 or 45"
    html = page.get_data(as_text=True)
    assert f'name="since" type="date" value="{today - timedelta(days=29)}"' in html
    assert f'name="until" type="date" value="{today}"' in html


def test_a_range_is_whole_china_days(library_app, content):
    material = publish(library_app, kind="link", title="ETF 入门")
    # 2026-11-30 15:59 UTC is 23:59 on the 30th in China; 16:00 UTC is 00:00 on 12-01
    add_shares(library_app, material, [datetime(2026, 11, 30, 15, 59), datetime(2026, 11, 30, 16, 0),
                                       datetime(2026, 12, 1, 15, 59), datetime(2026, 12, 1, 16, 0)])
    assert sent_column(content, "?since=2026-12-01&until=2026-12-01")[0] == {"ETF 入门": 2}
    assert sent_column(content, "?since=2026-11-30&until=2026-11-30")[0] == {"ETF 入门": 1}
    assert sent_column(content, "?since=2026-11-01&until=2026-12-02")[0] == {"ETF 入门": 4}
    _, page = sent_column(content, "?since=2026-12-01&until=2026-12-01")
    assert "2026-12-01 至 2026-12-01" in page.get_data(as_text=True)


def test_a_wrong_range_is_refused_with_the_reason(content):
    for query, reason in [("?since=2026-12-02&until=2026-12-01", "参数 since 不能晚于 until"),
                          ("?since=2026-13-01", "参数 since 应为"), ("?until=yesterday", "参数 until 应为")]:
        answer = content.get("/console/figures" + query)
        assert answer.status_code == 400 and reason in answer.get_data(as_text=True), query


def audit_ids(client, query):
    """The share ids the audit lists for a query string."""
    page = client.get("/console/audit" + query).get_data(as_text=True)
    return [int(i) for i in re.findall(r'data-share-id="(\d+)"', page)]


def share_ids(app, material):
    """The ids of a material's shares, newest first (the audit's order)."""
    with app.app_context():
        return db.session.scalars(db.select(Share.id).where(Share.material_id == material)
                                  .order_by(Share.created_at.desc(), Share.id.desc())).all()


def test_the_audit_finds_a_materials_shares_by_words_of_its_title(library_app):
    article = publish(library_app, kind="link", title="新手入门：什么是 ETF")
    poster = publish(library_app, kind="image", title="红利低波 100% 定投海报")
    add_shares(library_app, article, [datetime(2026, 11, 20, 2, 0), datetime(2026, 11, 21, 2, 0)])
    add_shares(library_app, poster, [datetime(2026, 11, 22, 2, 0)])
    auditor = signed_in(library_app, "sunli")
    assert audit_ids(auditor, "?title=什么是") == share_ids(library_app, article)
    assert audit_ids(auditor, "?title=100%25") == share_ids(library_app, poster), "% is a character, not a wildcard"
    assert audit_ids(auditor, "?title=1_0") == []
    narrowed = "?title=海报&status=sent&since=2026-11-22&until=2026-11-22"
    assert audit_ids(auditor, narrowed) == share_ids(library_app, poster)
    csv = auditor.get("/console/audit?format=csv&title=ETF").get_data(as_text=True)
    assert csv.count("新手入门：什么是 ETF") == 2 and "红利低波" not in csv


def test_the_material_pages_link_narrows_the_audit_to_it_by_name(library_app):
    article = publish(library_app, kind="link", title="新手入门：什么是 ETF")
    add_shares(library_app, article, [datetime(2026, 11, 20, 2, 0)])
    auditor = signed_in(library_app, "sunli")
    page = auditor.get(f"/console/materials/{article}").get_data(as_text=True)
    link = re.search(r'<a href="(/console/audit\?material=\d+)">查看发送审计</a>', page).group(1)
    audit = auditor.get(link).get_data(as_text=True)
    assert "仅看物料：<strong>新手入门：什么是 ETF</strong>" in audit
    assert 'placeholder="物料ID"' not in audit, "no numeric id to type"
