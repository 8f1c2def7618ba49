"""App messages beyond text: the emulator checks textcard and template_card like WeCom, and an SOP
reminder is a text card opening the 工作台 when the app knows its public address."""
import pytest
import requests

from helpers import make_app
from sidebar.extensions import db, wecom
from sidebar.jobs.tasks import send_sop_reminder
from sidebar.wecom import WeComError
from sop_helpers import add_group, add_staff, live_plan, run_tick, utc

BRIEFING = {"name": "每日早盘要点", "kind": "group", "groups": ["wrSHOW", "wrSHOW2"],
            "steps": [{"at": {"trading_days": "08:45"}, "window_minutes": 60, "text": "早上好", "materials": []}],
            "holdout": 0}


def app_messages(emulator):
    """The app messages the emulator received."""
    answer = requests.get(f"{emulator.url}/_admin/messages", timeout=5).json()["messages"]
    return [m["message"] for m in answer if m["kind"] == "app"]


def send(app, body):
    """message/send through our WeCom client, with the app's agentid."""
    with app.app_context():
        client = wecom()
        return client.call("POST", "/cgi-bin/message/send", json={"touser": "zhangwei",
                                                                   "agentid": int(client.agent_id), **body})


CARD = {"msgtype": "template_card", "template_card": {
    "card_type": "button_interaction", "task_id": "sop-1", "main_title": {"title": "SOP 待发送"},
    "button_list": [{"text": "去发送", "key": "open"}]}}


@pytest.mark.parametrize("body, errcode", [
    ({"msgtype": "textcard", "textcard": {"title": "t", "description": "d", "url": "https://a.example/x"}}, 0),
    ({"msgtype": "textcard", "textcard": {"title": "t", "description": "d", "url": "not a url"}}, 40058),
    ({"msgtype": "textcard", "textcard": {"title": "t", "description": "d", "url": "https://a.example/x",
                                          "btntxt": "打开这个工作台"}}, 40058),
    (CARD, 0),
    ({"msgtype": "template_card", "template_card": {**CARD["template_card"], "task_id": ""}}, 40058),
    ({"msgtype": "template_card", "template_card": {"card_type": "text_notice", "main_title": {"title": "t"},
                                                    "card_action": {"type": 1, "url": "https://a.example/x"}}}, 0),
    ({"msgtype": "template_card", "template_card": {"card_type": "text_notice", "main_title": {"title": "t"}}}, 40058),
    ({"msgtype": "text", "text": {"content": " "}}, 44004),
    ({"msgtype": "hologram", "hologram": {}}, 40008),
])
def test_the_emulator_checks_app_messages_like_wecom(app, emulator, body, errcode):
    if errcode:
        with pytest.raises(WeComError) as refused:
            send(app, body)
        assert refused.value.errcode == errcode
        assert app_messages(emulator) == []
    else:
        send(app, body)
        assert [m["msgtype"] for m in app_messages(emulator)] == [body["msgtype"]]


def test_a_reminder_is_a_text_card_opening_the_workbench_on_the_public_address(tmp_path, emulator):
    app = make_app(tmp_path / "sidebar.db", emulator.url, SIDEBAR_PUBLIC_URL="https://sidebar.example.com")
    from sidebar.identity.service import grant_role
    with app.app_context():
        grant_role("wangyun", "operator")
        db.session.commit()
        grant_role("sunli", "compliance")
        db.session.commit()
        add_staff("zhangwei", "张伟", 3)
        add_group("wrSHOW", "样板间·一群", "zhangwei")
        add_group("wrSHOW2", "样板间·二群", "zhangwei")
        db.session.commit()
    live_plan(app, BRIEFING)
    run_tick(app, "2026-12-08 08:45")
    with app.app_context():
        send_sop_reminder("zhangwei", utc("2026-12-08 08:45").isoformat())
    [card] = app_messages(emulator)
    assert card["msgtype"] == "textcard" and card["touser"] == "zhangwei"
    assert card["textcard"]["url"] == "https://sidebar.example.com/sidebar/today"
    assert card["textcard"]["description"].startswith("今天 08:45 有 2 个群待发送「每日早盘要点」")
