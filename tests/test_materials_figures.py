"""Console figures per material and per advisor; the share audit with filters and CSV export."""
import csv
import io
import re
from datetime import timedelta

import pytest

from helpers import import_classes, publish, signed_in
from sidebar.models import china_today

ADVISOR = "zhangwei"


def share(advisor, material, target, result=None):
    """Share, then report a result if one is given; returns the answer's JSON."""
    body = advisor.post(f"/sidebar/materials/{material}/shares", data={"target": target},
                        headers={"X-CSRFToken": advisor.csrf}).get_json()
    if result:
        advisor.post(body["report_url"], data={"result": result}, headers={"X-CSRFToken": advisor.csrf})
    return body


@pytest.fixture
def history(library_app, world):
    """An article sent to two clients (one opened it twice), a blocked R4 product, a cancelled text."""
    people = {c["external_userid"]: c for c in world["contacts"]}
    mine = [f for f in world["follows"] if f["userid"] == ADVISOR and people[f["external_userid"]]["unionid"]]
    first, second, c2 = (f["external_userid"] for f in mine[:3])
    import_classes(library_app, {people[c2]["unionid"]: ("C2", 100, [])})
    advisor = signed_in(library_app, ADVISOR)
    for contact in (first, second, c2):
        advisor.get(f"/sidebar/contacts/{contact}")
    article = publish(library_app, "link", title="=1+1 四季度策略")
    product = publish(library_app, "text", title="科创成长基金", risk_level="R4")
    snippet = publish(library_app, "text", title="开户话术")
    opened = share(advisor, article, f"contact:{first}", "sent")
    share(advisor, article, f"contact:{second}", "sent")
    share(advisor, product, f"contact:{c2}")
    share(advisor, snippet, f"contact:{first}", "cancelled")
    token = re.search(r"/r/(.+)$", opened["message"]["news"]["link"]).group(1)
    for _ in range(2):
        library_app.test_client().get(f"/r/{token}")
    return {"article": article, "product": product, "snippet": snippet, "first": first, "c2": c2}


def cells(html, row_attr):
    """The cell texts of the table row with this data attribute."""
    row = re.search(rf"<tr {row_attr}>(.*?)</tr>", html, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_figures_per_material_and_per_advisor(library_app, history):
    html = signed_in(library_app, "zhaomin").get("/console/figures").get_data(as_text=True)
    assert cells(html, f'data-material-id="{history["article"]}"') == [
        "=1+1 四季度策略", "文章", "2", "2", "0", "2", "50.0%", "0"]
    assert cells(html, f'data-material-id="{history["product"]}"')[2:] == ["0", "0", "0", "0", "—", "1"]
    assert cells(html, f'data-advisor="{ADVISOR}"') == ["张伟", "2", "1", "0", "1", "0", "2", "2"]


def test_the_material_page_shows_its_own_figures(library_app, history):
    html = signed_in(library_app, "sunli").get(f"/console/materials/{history['article']}").get_data(as_text=True)
    assert re.search(r"<strong>2</strong>发送", html) and re.search(r"<strong>50.0%</strong>打开率", html)


def test_the_audit_lists_every_attempt_and_filters(library_app, history):
    auditor = signed_in(library_app, "sunli")
    everything = auditor.get("/console/audit").get_data(as_text=True)
    assert everything.count("data-share-id=") == 4
    blocked = auditor.get("/console/audit?status=blocked").get_data(as_text=True)
    assert blocked.count("data-share-id=") == 1 and "C2" in blocked and "R4" in blocked
    assert auditor.get(f"/console/audit?material={history['article']}").get_data(as_text=True).count("data-share-id=") == 2
    assert auditor.get(f"/console/audit?client={history['first']}").get_data(as_text=True).count("data-share-id=") == 2
    assert auditor.get("/console/audit?advisor=张伟").get_data(as_text=True).count("data-share-id=") == 4
    assert auditor.get("/console/audit?advisor=lina").get_data(as_text=True).count("data-share-id=") == 0
    today = china_today()
    assert auditor.get(f"/console/audit?since={today}&until={today}").get_data(as_text=True).count("data-share-id=") == 4
    yesterday = today - timedelta(days=1)
    assert auditor.get(f"/console/audit?until={yesterday}").get_data(as_text=True).count("data-share-id=") == 0


def test_the_audit_exports_csv_that_spreadsheets_cannot_run(library_app, history):
    response = signed_in(library_app, "zhouqiang").get(f"/console/audit?format=csv&material={history['article']}")
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["时间", "顾问", "顾问ID"] and len(rows) == 3
    assert all(row[4] == "'=1+1 四季度策略" for row in rows[1:]), "a formula is written as text"
    assert sorted(row[11] for row in rows[1:]) == ["已发送", "已发送"]
    assert sorted(row[13] for row in rows[1:]) == ["0", "2"]


def test_only_compliance_and_managers_read_the_audit(library_app, history):
    assert signed_in(library_app, "zhaomin").get("/console/audit").status_code == 403
    assert signed_in(library_app, "zhangwei").get("/console/figures").status_code == 403
    assert signed_in(library_app, "zhouqiang").get("/console/audit").status_code == 200
