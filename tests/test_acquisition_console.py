"""Channels in the console: made, shown with their QR code, changed and retired in WeCom and here (issue 20)."""
import re

import pytest
import requests

from acquisition_helpers import OPERATOR, make_channel, prepare, tag_ids
from helpers import publish, signed_in
from sidebar.extensions import wecom
from sidebar.wecom import WeComError


@pytest.fixture
def acq_app(app):
    """The app with the world synced, roles granted, and an approved welcome (app.welcome)."""
    app.welcome = prepare(app)
    return app


def contact_way(app, config_id):
    """The contact-me configuration as WeCom has it."""
    with app.app_context():
        return wecom().call("POST", "/cgi-bin/externalcontact/get_contact_way", json={"config_id": config_id})


def test_an_operator_makes_a_contact_code_and_the_page_shows_its_qr_code(acq_app, emulator):
    operator = signed_in(acq_app, OPERATOR)
    live = tag_ids(acq_app, "直播")
    answer = operator.post("/console/channels", data={"csrf_token": operator.csrf, "name": "抖音直播", "kind": "contact",
                                                      "userids": ["zhangwei", "lina"], "tags": live,
                                                      "welcome": str(acq_app.welcome)})
    assert answer.status_code == 303
    channel_id = int(re.search(r"/console/channels/(\d+)$", answer.location).group(1))
    page = operator.get(f"/console/channels/{channel_id}").get_data(as_text=True)
    assert "抖音直播" in page and f"/console/channels/{channel_id}/qr.png" in page and "下载二维码" in page
    image = operator.get(f"/console/channels/{channel_id}/qr.png")
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG\r\n\x1a\n")
    download = operator.get(f"/console/channels/{channel_id}/qr.png?download=1")
    assert "attachment" in download.headers["Content-Disposition"]

    state = re.search(r"<code>(qd[0-9a-f]+)</code>", page).group(1)
    made = [c["params"] for c in requests.get(f"{emulator.url}/_admin/calls", timeout=5).json()["calls"]
            if c["path"].endswith("add_contact_way")]
    assert len(made) == 1
    way = made[0]
    assert way["type"] == 2 and way["scene"] == 2 and way["state"] == state and way["user"] == ["zhangwei", "lina"]
    listing = operator.get("/console/channels").get_data(as_text=True)
    assert "抖音直播" in listing and "使用中" in listing


def test_edit_and_retire_change_the_code_in_wecom(acq_app, emulator):
    channel_id, config_id, state = make_channel(acq_app, "网点海报", userids=["wangfang"], welcome=acq_app.welcome)
    operator = signed_in(acq_app, OPERATOR)
    answer = operator.post(f"/console/channels/{channel_id}", data={
        "csrf_token": operator.csrf, "name": "网点海报（陆家嘴）", "kind": "contact", "userids": ["wangfang", "liuyang"]})
    assert answer.status_code == 303
    way = contact_way(acq_app, config_id)["contact_way"]
    assert way["user"] == ["wangfang", "liuyang"] and way["state"] == state
    retired = operator.post(f"/console/channels/{channel_id}/retire", data={"csrf_token": operator.csrf})
    assert retired.status_code == 303
    with pytest.raises(WeComError):
        contact_way(acq_app, config_id)
    page = operator.get(f"/console/channels/{channel_id}").get_data(as_text=True)
    assert "已停用" in page and "停用渠道" not in page


def test_a_group_code_takes_up_to_five_groups(acq_app, emulator, world):
    chats = [g["chat_id"] for g in world["groups"]]
    operator = signed_in(acq_app, OPERATOR)
    form = {"csrf_token": operator.csrf, "name": "投教讲座", "kind": "group"}
    if len(chats) > 5:
        too_many = operator.post("/console/channels", data={**form, "chat_ids": chats[:6]})
        assert too_many.status_code == 422 and "1 到 5 个客户群" in too_many.get_data(as_text=True)
    answer = operator.post("/console/channels", data={**form, "chat_ids": chats[:2]})
    assert answer.status_code == 303
    calls = requests.get(f"{emulator.url}/_admin/calls", timeout=5).json()["calls"]
    join = [c["params"] for c in calls if c["path"].endswith("add_join_way")][0]
    assert join["chat_id_list"] == chats[:2] and join["auto_create_room"] == 1 and join["scene"] == 2


def test_only_a_general_approved_material_can_be_the_welcome(acq_app):
    risky = publish(acq_app, kind="text", title="R3 基金推介", risk_level="R3", body="某基金…")
    operator = signed_in(acq_app, OPERATOR)
    answer = operator.post("/console/channels", data={"csrf_token": operator.csrf, "name": "公众号菜单", "kind": "contact",
                                                      "userids": ["zhangwei"], "welcome": str(risky)})
    assert answer.status_code == 422 and "不限风险等级" in answer.get_data(as_text=True)


def test_only_operators_write_channels(acq_app):
    advisor = signed_in(acq_app, "lina")
    assert advisor.get("/console/channels").status_code == 403
    reader = signed_in(acq_app, "sunli")
    assert reader.get("/console/channels").status_code == 200
    answer = reader.post("/console/channels", data={"csrf_token": reader.csrf, "name": "x", "kind": "contact",
                                                    "userids": ["zhangwei"]})
    assert answer.status_code == 403


def test_a_channel_is_not_stored_when_wecom_cannot_make_its_code(acq_app, emulator):
    from sidebar.extensions import db
    from sidebar.models import Channel

    operator = signed_in(acq_app, OPERATOR)
    requests.post(f"{emulator.url}/_admin/faults", json={"down": True}, timeout=5).raise_for_status()
    try:
        answer = operator.post("/console/channels", data={"csrf_token": operator.csrf, "name": "抖音直播",
                                                          "kind": "contact", "userids": ["zhangwei"]})
    finally:
        requests.post(f"{emulator.url}/_admin/faults", json={"down": False}, timeout=5)
    assert answer.status_code == 503
    with acq_app.app_context():
        assert db.session.query(Channel).count() == 0
