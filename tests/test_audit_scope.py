"""The share audit, its CSV and the console figures: a branch manager sees their branch, compliance the firm."""
import csv
import io
import re

import pytest

from helpers import publish, signed_in
from sidebar.extensions import db
from sidebar.identity.service import grant_role

PUDONG, XUHUI = "zhangwei", "wangfang"  # advisors of 浦东营业部 (周强's branch) and 徐汇营业部


def send(app, world, advisor, material):
    """The advisor shares the material with their first client and reports it sent: (share id, client)."""
    contact = next(f["external_userid"] for f in world["follows"] if f["userid"] == advisor)
    client = signed_in(app, advisor)
    assert client.get(f"/sidebar/contacts/{contact}").status_code == 200
    body = client.post(f"/sidebar/materials/{material}/shares", data={"target": f"contact:{contact}"},
                       headers={"X-CSRFToken": client.csrf}).get_json()
    client.post(body["report_url"], data={"result": "sent"}, headers={"X-CSRFToken": client.csrf})
    return body["share_id"], contact


@pytest.fixture
def shares(library_app, world):
    """One article sent by an advisor of each branch."""
    material = publish(library_app, "link", title="四季度策略展望")
    return {"material": material, PUDONG: send(library_app, world, PUDONG, material),
            XUHUI: send(library_app, world, XUHUI, material)}


def listed(html):
    """The share ids an audit page lists."""
    return sorted(int(i) for i in re.findall(r'data-share-id="(\d+)"', html))


def exported(client):
    """The CSV export's rows, header aside."""
    response = client.get("/console/audit?format=csv")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))[1:]


def test_a_manager_audits_the_shares_of_their_branch_only(library_app, shares):
    manager = signed_in(library_app, "zhouqiang")
    html = manager.get("/console/audit").get_data(as_text=True)
    assert listed(html) == [shares[PUDONG][0]]
    assert listed(manager.get(f"/console/audit?advisor={XUHUI}").get_data(as_text=True)) == []
    rows = exported(manager)
    assert [(row[2], row[8]) for row in rows] == [(PUDONG, shares[PUDONG][1])]
    assert shares[XUHUI][1] not in manager.get("/console/audit?format=csv").get_data(as_text=True)


def test_compliance_audits_the_whole_firm_and_so_does_a_manager_who_is_compliance_too(library_app, shares):
    everything = sorted([shares[PUDONG][0], shares[XUHUI][0]])
    assert listed(signed_in(library_app, "sunli").get("/console/audit").get_data(as_text=True)) == everything
    with library_app.app_context():
        grant_role("zhouqiang", "compliance")
        db.session.commit()
    manager = signed_in(library_app, "zhouqiang")
    assert listed(manager.get("/console/audit").get_data(as_text=True)) == everything
    assert sorted(row[2] for row in exported(manager)) == sorted([PUDONG, XUHUI])


def test_a_managers_figures_count_their_branch_only(library_app, shares):
    manager = signed_in(library_app, "zhouqiang")
    html = manager.get("/console/figures").get_data(as_text=True)
    assert re.findall(r'data-advisor="(\w+)"', html) == [PUDONG]
    row = re.search(rf'<tr data-material-id="{shares["material"]}">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r'<td class="num">([^<]*)</td>', row)[:2] == ["1", "1"], "sent and clients: the branch's"
    page = manager.get(f"/console/materials/{shares['material']}").get_data(as_text=True)
    assert re.search(r"<strong>1</strong>发送", page)
    firm = signed_in(library_app, "sunli").get(f"/console/materials/{shares['material']}").get_data(as_text=True)
    assert re.search(r"<strong>2</strong>发送", firm)
    content = signed_in(library_app, "zhaomin").get("/console/figures").get_data(as_text=True)
    assert sorted(re.findall(r'data-advisor="(\w+)"', content)) == sorted([PUDONG, XUHUI])


def test_the_audit_page_and_its_csv_are_not_kept_by_any_cache(library_app, shares):
    auditor = signed_in(library_app, "sunli")
    for url in ("/console/audit", "/console/audit?format=csv"):
        assert auditor.get(url).headers.get("Cache-Control") == "no-store", url
