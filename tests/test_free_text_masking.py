"""Numbers people type into remarks, descriptions and notes are masked wherever the text leaves us:
the client panel, the library, the share audit and its CSV, the advisor's app message."""
import csv
import io
import re

import pytest
import requests

from helpers import eventually, publish, run_sql, run_worker, signed_in
from sidebar.masking import mask_free_text

ADVISOR = "zhangwei"
MOBILE, ID_NUMBER, ACCOUNT = "13812345678", "11010519491231002X", "6222021234567890123"
REMARK = f"熊宇{MOBILE}"
DESCRIPTION = f"身份证{ID_NUMBER}，银行卡 {ACCOUNT}，2026-01-15 面谈"
NOTE = "客户新号 139-8765-4321，资金账户88770000000123，20260115 已回访"
WHOLE = (MOBILE, ID_NUMBER, ACCOUNT, "139-8765-4321", "13987654321", "88770000000123")


@pytest.mark.parametrize("text, masked", [
    ("客户熊宇13812345678 打开了", "客户熊宇138****5678 打开了"),
    ("新号 139 8765 4321", "新号 139****4321"),
    ("身份证11010519491231002X号", "身份证****002X号"),
    ("卡号 6222 0212 3456 7890", "卡号 ****7890"),
    ("资金账户88770000000123", "资金账户****0123"),
    ("+8613812345678", "+****5678"),
    ("20260115 回访，2026-01-15 10:30 面谈", "20260115 回访，2026-01-15 10:30 面谈"),
    ("转入 12345678.50 元，打了3次电话", "转入 12345678.50 元，打了3次电话"),
    ("", ""),
    (None, None),
])
def test_numbers_in_free_text_are_masked_and_dates_and_amounts_kept(text, masked):
    assert mask_free_text(text) == masked


def no_whole_number(text):
    """True when none of the typed personal numbers appears whole."""
    return not [number for number in WHOLE if number in text]


@pytest.fixture
def remarked(library_app, world):
    """One of zhangwei's clients whose remark and description carry numbers, with a note carrying more."""
    contact = next(f["external_userid"] for f in world["follows"] if f["userid"] == ADVISOR)
    advisor = signed_in(library_app, ADVISOR)
    assert advisor.get(f"/sidebar/contacts/{contact}").status_code == 200  # stored locally now
    run_sql(library_app, f"UPDATE follow SET remark = '{REMARK}', description = '{DESCRIPTION}' "
                         f"WHERE userid = '{ADVISOR}' AND external_userid = '{contact}'")
    added = advisor.post(f"/sidebar/contacts/{contact}/notes", data={"body": NOTE},
                         headers={"X-CSRFToken": advisor.csrf, "HX-Request": "true"})
    assert added.status_code == 200
    advisor.notes_fragment = added.get_data(as_text=True)
    return advisor, contact


def test_the_client_panel_masks_remark_description_and_notes(remarked):
    advisor, contact = remarked
    assert no_whole_number(advisor.notes_fragment), "the notes section htmx swaps in after adding one"
    html = advisor.get(f"/sidebar/contacts/{contact}").get_data(as_text=True)
    assert no_whole_number(html)
    assert "<h1>熊宇138****5678</h1>" in html
    assert "身份证****002X，银行卡 ****0123，2026-01-15 面谈" in html
    assert "客户新号 139****4321，资金账户****0123，20260115 已回访" in html


def test_the_library_names_the_chat_masked(remarked):
    advisor, contact = remarked
    html = advisor.get(f"/sidebar/materials?chat=contact:{contact}").get_data(as_text=True)
    assert "熊宇138****5678" in html and no_whole_number(html)


@pytest.fixture
def opened_share(library_app, emulator, remarked):
    """An article sent to the remarked client and opened by them."""
    advisor, contact = remarked
    material = publish(library_app, "link", title="四季度策略展望")
    body = advisor.post(f"/sidebar/materials/{material}/shares", data={"target": f"contact:{contact}"},
                        headers={"X-CSRFToken": advisor.csrf}).get_json()
    advisor.post(body["report_url"], data={"result": "sent"}, headers={"X-CSRFToken": advisor.csrf})
    token = re.search(r"/r/([A-Za-z0-9_-]+)$", body["message"]["news"]["link"]).group(1)
    assert library_app.test_client().get(f"/r/{token}").status_code == 302
    return material


def test_the_app_message_of_an_open_masks_the_remark(library_app, emulator, opened_share):
    run_worker(library_app)  # the worker sends the notice of the first open

    def app_messages():
        """App messages the emulator received so far."""
        return [m for m in requests.get(f"{emulator.url}/_admin/messages", timeout=5).json()["messages"]
                if m["kind"] == "app"]

    messages = eventually(app_messages)
    assert [m["message"]["text"]["content"] for m in messages] == ["客户熊宇138****5678 打开了《四季度策略展望》"]


def test_the_audit_page_and_its_csv_mask_the_remark(library_app, opened_share):
    auditor = signed_in(library_app, "sunli")
    html = auditor.get("/console/audit").get_data(as_text=True)
    assert "熊宇138****5678" in html and no_whole_number(html)
    export = auditor.get("/console/audit?format=csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(export.lstrip("\ufeff"))))
    assert [row[9] for row in rows[1:]] == ["熊宇138****5678"] and no_whole_number(export)


def test_the_group_panel_masks_its_notice_and_member_names(library_app, world):
    group = next(g for g in world["groups"] if g["owner"] == ADVISOR)
    member = next(m["userid"] for m in group["members"] if m["type"] == 2)
    advisor = signed_in(library_app, ADVISOR)
    assert advisor.get(f"/sidebar/groups/{group['chat_id']}").status_code == 200
    run_sql(library_app, f"UPDATE group_chat SET notice = '入群请加 {MOBILE}' WHERE chat_id = '{group['chat_id']}'")
    run_sql(library_app, f"UPDATE group_member SET name = '王{ACCOUNT}', group_nickname = '小王{MOBILE}' "
                         f"WHERE chat_id = '{group['chat_id']}' AND member_id = '{member}'")
    html = advisor.get(f"/sidebar/groups/{group['chat_id']}?show=all").get_data(as_text=True)
    assert "入群请加 138****5678" in html and "王****0123" in html and "小王138****5678" in html
    assert no_whole_number(html)
