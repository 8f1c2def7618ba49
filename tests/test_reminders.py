"""跟进提醒: "remind me" from the client panel, the app message at that time (through the queue's worker),
and the reminder on the 工作台 until done or moved."""
from datetime import datetime, timedelta

import pytest
import requests
from sqlalchemy import select

from actions_helpers import ADVISOR, seed_situations
from helpers import eventually, run_worker, signed_in
from sidebar.actions import reminders
from sidebar.extensions import db, wecom
from sidebar.jobs.tasks import sop_job
from sidebar.models import CHINA, FollowUpReminder

CLIENT = "wmNEXTxOpenedNF1"
CLIENT_NAME = "客户NEXT"  # the remark seed_situations gives it


@pytest.fixture
def advisor(app):
    """zhangwei signed in, with the situation clients."""
    seed_situations(app)
    return signed_in(app, ADVISOR)


def later(**delta):
    """A China-time moment from now, to the minute, as the datetime-local field sends it (no offset)."""
    return (datetime.now(CHINA) + timedelta(**delta)).replace(second=0, microsecond=0)


def remind(client, at, text, external_userid=CLIENT):
    """POST the panel's "remind me" form as htmx does."""
    return client.post(f"/sidebar/contacts/{external_userid}/reminders", data={"at": at, "text": text},
                       headers={"X-CSRFToken": client.csrf, "HX-Request": "true"})


def app_messages(emulator):
    """(touser, content) of the app messages WeCom received."""
    answer = requests.get(f"{emulator.url}/_admin/messages", timeout=5).json()["messages"]
    return [(m["message"]["touser"], m["message"]["text"]["content"]) for m in answer if m["kind"] == "app"]


def masked(name):
    """How a client's name appears outside the panel: the first character only."""
    return name[0] + "*" * (len(name) - 1)


def test_a_reminder_is_stored_at_the_china_time_the_advisor_picked(app, advisor):
    moment = later(days=2)
    answer = remind(advisor, moment.strftime("%Y-%m-%dT%H:%M"), "回访入金情况")
    assert answer.status_code == 200
    assert f"已设置：{moment:%m-%d %H:%M} 提醒「回访入金情况」" in answer.get_data(as_text=True)
    with app.app_context():
        row = db.session.scalars(select(FollowUpReminder)).one()
        assert (row.advisor, row.external_userid, row.text, row.status) == (ADVISOR, CLIENT, "回访入金情况", "open")
        assert row.due_at == (moment - timedelta(hours=8)).replace(tzinfo=None)  # naive UTC


@pytest.mark.parametrize("at, text, said", [
    ("", "回访", "请选择提醒的日期和时间"),
    ("明天", "回访", "请选择提醒的日期和时间"),
    ("2020-01-01T10:00", "回访", "提醒时间已经过去"),
    ((datetime.now(CHINA) + timedelta(days=400)).strftime("%Y-%m-%dT%H:%M"), "回访", "提醒时间最多设在一年之内"),
    ((datetime.now(CHINA) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"), "  ", "请写几个字"),
    ((datetime.now(CHINA) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"), "字" * 201, "提醒内容最多 200 字"),
])
def test_a_bad_moment_or_text_is_refused_with_the_reason_and_nothing_stored(app, advisor, at, text, said):
    answer = remind(advisor, at, text)
    assert answer.status_code == 422 and said in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(FollowUpReminder)).all() == []


def test_only_the_advisor_who_follows_may_set_one(app, advisor):
    other = signed_in(app, "lina")
    answer = remind(other, later(days=1).strftime("%Y-%m-%dT%H:%M"), "回访")
    assert answer.status_code == 404
    with app.app_context():
        assert db.session.scalars(select(FollowUpReminder)).all() == []


def test_at_its_time_the_reminder_comes_as_one_app_message_and_stays_on_the_workbench(app, advisor, emulator):
    now = datetime.now(CHINA)
    with app.app_context():  # set yesterday for a moment that has now come
        first = reminders.add(wecom(), ADVISOR, CLIENT, (now - timedelta(minutes=3)).isoformat(), "回访入金情况",
                              now=now - timedelta(days=1))
        db.session.commit()
        second = reminders.add(wecom(), ADVISOR, "wmNEXTxApplying1", (now - timedelta(minutes=1)).isoformat(),
                               "问开户卡在哪一步 13812345678", now=now - timedelta(days=1))
        db.session.commit()
        reminders.add(wecom(), ADVISOR, "wmNEXTxDormant01", (now + timedelta(hours=1)).isoformat(), "以后再说")
        db.session.commit()
        due = [(from_row.due_at + timedelta(hours=8)).strftime("%m-%d %H:%M") for from_row in (first, second)]
        first_id = first.id
        sop_job()
        sop_job()  # a second tick (or host) finds them claimed
    run_worker(app)
    assert eventually(lambda: app_messages(emulator))
    assert app_messages(emulator) == [(ADVISOR, "跟进提醒\n"
                                                f"{masked(CLIENT_NAME)}（{due[0]}）：回访入金情况\n"
                                                f"{masked('客户NEXT')}（{due[1]}）：问开户卡在哪一步 138****5678\n"
                                                "请在侧边栏「工作台」中查看。")]

    page = advisor.get("/sidebar/today").get_data(as_text=True)
    assert page.count('class="reminder due"') == 2 and page.count('class="reminder"') == 1
    assert "问开户卡在哪一步 138****5678" in page and "13812345678" not in page

    answer = advisor.post(f"/sidebar/reminders/{first_id}/done", headers={"X-CSRFToken": advisor.csrf,
                                                                         "HX-Request": "true"})
    assert answer.status_code == 200 and "回访入金情况" not in answer.get_data(as_text=True)
    assert "回访入金情况" not in advisor.get("/sidebar/today").get_data(as_text=True)


def test_a_moved_reminder_is_sent_again_at_its_new_time(app, advisor, emulator):
    now = datetime.now(CHINA)
    with app.app_context():
        row = reminders.add(wecom(), ADVISOR, CLIENT, (now - timedelta(minutes=1)).isoformat(), "回访",
                            now=now - timedelta(days=1))
        db.session.commit()
        reminder_id = row.id
        sop_job()
    run_worker(app)
    assert eventually(lambda: len(app_messages(emulator)) == 1)

    moved = later(days=1)
    answer = advisor.post(f"/sidebar/reminders/{reminder_id}/move", data={"at": moved.strftime("%Y-%m-%dT%H:%M")},
                          headers={"X-CSRFToken": advisor.csrf, "HX-Request": "true"})
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert f"{moved:%m-%d %H:%M}" in html and "已到期" not in html
    with app.app_context():
        sop_job()  # not due any more: nothing is sent
        row = db.session.get(FollowUpReminder, reminder_id)
        assert row.sent_at is None
        row.due_at = row.due_at - timedelta(days=1, minutes=5)  # the new time has come
        db.session.commit()
        sop_job()
    assert eventually(lambda: len(app_messages(emulator)) == 2)


def test_nobody_else_can_close_or_move_a_reminder(app, advisor):
    with app.app_context():
        reminder_id = reminders.add(wecom(), ADVISOR, CLIENT, later(days=1).isoformat(), "回访").id
        db.session.commit()
    other = signed_in(app, "lina")
    for action, data in (("done", {}), ("move", {"at": later(days=2).strftime("%Y-%m-%dT%H:%M")})):
        answer = other.post(f"/sidebar/reminders/{reminder_id}/{action}", data=data, headers={"X-CSRFToken": other.csrf})
        assert answer.status_code == 404
    with app.app_context():
        row = db.session.get(FollowUpReminder, reminder_id)
        assert row.status == "open" and row.due_at == (later(days=1) - timedelta(hours=8)).replace(tzinfo=None)
