"""The emulator's enterprise mass send (客户群发) as WeCom answers it: what add_msg_template refuses or
leaves out, the sender's confirmation, the monthly cap, and the result calls' paging."""
import pytest
import requests

from sidebar.extensions import wecom
from sidebar.wecom import WeComError

ADVISOR = "zhangwei"


@pytest.fixture
def wecom_api(app):
    """Our WeCom client (wecom_api), talking to the session's emulator."""
    with app.app_context():
        yield wecom()


def contacts(world, userid, count):
    """Contacts the member follows."""
    found = [f["external_userid"] for f in world["follows"] if f["userid"] == userid]
    return found[:count]


def confirm(emulator, msgid, userid=ADVISOR):
    """The member presses 发送 in 群发助手."""
    return requests.post(f"{emulator.url}/_admin/groupmsg/{msgid}/send", json={"userid": userid}, timeout=5).json()


def test_what_add_msg_template_refuses(wecom_api, world):
    mine = contacts(world, ADVISOR, 1)
    with pytest.raises(WeComError) as too_many:
        wecom_api.add_msg_template(ADVISOR, "single", mine, "你好", [{"msgtype": "link", "link": {
            "title": "t", "url": "https://a.example/x"}}] * 10)
    assert too_many.value.errcode == 40058
    with pytest.raises(WeComError) as bad_media:
        wecom_api.add_msg_template(ADVISOR, "single", mine, "", [{"msgtype": "image", "image": {"media_id": "nope"}}])
    assert bad_media.value.errcode == 40007
    with pytest.raises(WeComError) as unknown:
        wecom_api.get_groupmsg_task("msgGMnothing")
    assert unknown.value.errcode == 41063


def test_targets_that_are_not_the_senders_are_left_out(wecom_api, world):
    mine, theirs = contacts(world, ADVISOR, 2), [f for f in contacts(world, "lina", 5)
                                                 if f not in contacts(world, ADVISOR, 10_000)][:1]
    msgid, failed = wecom_api.add_msg_template(ADVISOR, "single", mine + theirs, "你好")
    assert failed == theirs
    others = [g["chat_id"] for g in world["groups"] if g["owner"] != ADVISOR][:1]
    owned = [g["chat_id"] for g in world["groups"] if g["owner"] == ADVISOR][:1]
    _, failed = wecom_api.add_msg_template(ADVISOR, "group", owned + others, "各位好")
    assert failed == others
    tasks, _ = wecom_api.get_groupmsg_task(msgid)
    assert tasks == [{"userid": ADVISOR, "status": 0, "send_time": 0}]


def test_the_monthly_cap_and_paged_results(wecom_api, world, emulator):
    mine = contacts(world, ADVISOR, 3)
    requests.post(f"{emulator.url}/_admin/groupmsg", json={"cap": 1}, timeout=5).raise_for_status()
    first, _ = wecom_api.add_msg_template(ADVISOR, "single", mine[:1], "第一条")
    second, _ = wecom_api.add_msg_template(ADVISOR, "single", mine, "第二条")
    assert confirm(emulator, first)["sent"] == 1
    assert confirm(emulator, second) == {"ok": True, "sent": 2, "not_friend": 0, "over_cap": 1}
    assert confirm(emulator, second)["ok"] is False, "sent once"
    rows, cursor = wecom_api.get_groupmsg_send_result(second, ADVISOR, limit=2)
    more, end = wecom_api.get_groupmsg_send_result(second, ADVISOR, cursor, limit=2)
    assert cursor and end == ""
    statuses = {row["external_userid"]: row["status"] for row in rows + more}
    assert statuses == {mine[0]: 3, mine[1]: 1, mine[2]: 1}
    [task], _ = wecom_api.get_groupmsg_task(second)
    assert task["status"] == 2 and task["send_time"] > 0
