"""An SOP step sent as one enterprise mass send (客户群发): every target gated first (the blocked listed,
not sent), one add_msg_template the advisor confirms in WeCom, the results read back by the SOP job
(paced, resumable) closing the tasks: sent → done, not a friend / over the monthly cap → failed."""
import calendar
from datetime import datetime, timedelta

import pytest
import requests
from sqlalchemy import select

from helpers import change_world, import_classes, make_app, publish, signed_in
from sidebar.extensions import db, wecom
from sidebar.models import CHINA, Share, SopMassSend, SopTask
from sidebar.sop import masssend, plans, review
from sidebar.sop.tick import tick

ADVISOR = "zhangwei"


def post(client, url, **form):
    """POST with the session's CSRF token, as htmx does."""
    return client.post(url, data=form, headers={"X-CSRFToken": client.csrf, "HX-Request": "true"})


def zhangweis_clients(world, count):
    """WeChat contacts only zhangwei follows (so the task's advisor is theirs), with a unionid."""
    followers = {}
    for follow in world["follows"]:
        followers.setdefault(follow["external_userid"], set()).add(follow["userid"])
    people = {p["external_userid"]: p for p in world["contacts"]}
    found = [ext for ext, who in followers.items()
             if who == {ADVISOR} and ext in people and people[ext].get("unionid")]
    assert len(found) >= count
    return [people[ext] for ext in found[:count]]


def client_plan(app, materials, text="{客户称呼}您好，{顾问姓名}提醒您：风险测评即将到期。", minutes_ago=5):
    """A live client plan (risk assessment expiring) whose one step started minutes ago; ticked now."""
    start = (datetime.now(CHINA) - timedelta(minutes=minutes_ago)).replace(second=0, microsecond=0)
    with app.app_context():
        plan = plans.import_plans("wangyun", [{
            "name": "风测到期提醒", "kind": "client", "trigger": {"risk_expires_within_days": 400},
            "steps": [{"at": {"datetime": start.isoformat()}, "window_minutes": 120, "text": text,
                       "materials": list(materials)}], "holdout": 0}])[0]
        db.session.commit()
        review.submit("wangyun", plan.id)
        db.session.commit()
        review.approve("sunli", plan.id)
        db.session.commit()
        tick()
        return plan.id


@pytest.fixture
def setup(library_app, world):
    """zhangwei signed in with three clients stored: two of class C4, one C2."""
    people = zhangweis_clients(world, 3)
    advisor = signed_in(library_app, ADVISOR)
    for person in people:
        assert advisor.get(f"/sidebar/contacts/{person['external_userid']}").status_code == 200
    import_classes(library_app, {people[0]["unionid"]: ("C4", 300, []), people[1]["unionid"]: ("C4", 300, []),
                                 people[2]["unionid"]: ("C2", 300, [])})
    return advisor, [p["external_userid"] for p in people]


def tasks_of(app, plan_id):
    """{chat_id: (status, reason)} of a plan's tasks."""
    with app.app_context():
        return {t.chat_id: (t.status, t.reason) for t in db.session.scalars(select(SopTask).where(SopTask.plan_id == plan_id))}


def mass_sends(emulator, url=None):
    """What the emulator (or the one at url) keeps of mass sends."""
    return requests.get(f"{url or emulator.url}/_admin/groupmsg", timeout=5).json()["items"]


def confirm(emulator, msgid, userid=ADVISOR):
    """The advisor presses 发送 in WeCom's 群发助手."""
    return requests.post(f"{emulator.url}/_admin/groupmsg/{msgid}/send", json={"userid": userid}, timeout=5)


def poll(app, minutes_later, **options):
    """The SOP job's reading of mass-send results, minutes from now."""
    with app.app_context():
        return masssend.poll(wecom(), datetime.now(CHINA) + timedelta(minutes=minutes_later), **options)


def test_a_step_goes_as_one_mass_send_to_the_suitable_clients_and_the_results_close_the_tasks(
        library_app, emulator, setup):
    advisor, (first, second, unsuitable) = setup
    link = publish(library_app, "link", risk_level="R3", title="稳健理财周报", summary="本周观点")
    plan_id = client_plan(library_app, [link])
    today = advisor.get("/sidebar/today").get_data(as_text=True)
    assert "客户群发" in today and "群发给 3 个客户" in today

    answer = post(advisor, "/sidebar/tasks/mass", plan_id=plan_id, step=0, kind="contact")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    section = answer.get_data(as_text=True)
    assert "已创建群发（2 个对象）" in section and "未发送 1 个" in section and "R3" in section

    tasks = tasks_of(library_app, plan_id)
    assert tasks[unsuitable][0] == "blocked" and "C2" in tasks[unsuitable][1]
    [sent] = mass_sends(emulator)
    assert sent["chat_type"] == "single" and sent["creator"] == ADVISOR
    assert sorted(r["target"] for r in sent["recipients"]) == sorted([first, second])
    assert sent["text"].startswith("尊敬的客户您好，张伟提醒您：风险测评即将到期。")
    [attachment] = sent["attachments"]
    assert attachment["msgtype"] == "link" and attachment["link"]["title"] == "稳健理财周报"
    assert "投资有风险" in attachment["link"]["desc"]  # the product material's disclaimer goes with it
    assert "/r/" in attachment["link"]["url"]
    # while it waits for the advisor, the tasks are not offered again chat by chat
    assert "今日SOP" not in advisor.get(f"/sidebar/tasks?chat=contact:{first}").get_data(as_text=True)

    assert poll(library_app, 0).checked == 0, "the first check is paced a little after the creation"
    assert poll(library_app, 3).closed == 0  # not confirmed yet
    assert tasks_of(library_app, plan_id)[first][0] == "open"
    assert poll(library_app, 4).checked == 0, "the next check backs off"

    assert confirm(emulator, sent["msgid"]).json()["sent"] == 2
    assert poll(library_app, 10).closed == 2
    tasks = tasks_of(library_app, plan_id)
    assert tasks[first][0] == tasks[second][0] == "done"
    with library_app.app_context():
        mass = db.session.scalars(select(SopMassSend)).one()
        assert mass.status == "done" and mass.sent_at is not None
        shares = db.session.scalars(select(Share).where(Share.task_id.is_not(None))).all()
        by_target = {}
        for share in shares:
            by_target.setdefault(share.target_id, set()).add(share.status)
    assert by_target[first] == by_target[second] == {"sent"} and by_target[unsuitable] == {"blocked"}
    delivered = [m["chat"] for m in requests.get(f"{emulator.url}/_admin/messages", timeout=5).json()["messages"]
                 if m["kind"] == "mass"]
    assert sorted(delivered) == sorted([f"contact:{first}", f"contact:{second}"])
    done = advisor.get("/sidebar/today").get_data(as_text=True)
    assert "已完成" in done and "按时完成 2" in done


def test_cancel_gives_the_tasks_back_to_the_chats_and_wecom_refuses_the_confirmation(library_app, emulator, setup):
    advisor, (first, second, _) = setup
    plan_id = client_plan(library_app, [])
    assert post(advisor, "/sidebar/tasks/mass", plan_id=plan_id, step=0, kind="contact").status_code == 200
    [sent] = mass_sends(emulator)
    with library_app.app_context():
        mass_id = db.session.scalars(select(SopMassSend.id)).one()
    for _ in range(3):
        assert post(advisor, f"/sidebar/mass/{mass_id}/remind").status_code == 200
    refused = post(advisor, f"/sidebar/mass/{mass_id}/remind")
    assert refused.status_code == 503 and "最多提醒 3 次" in refused.get_data(as_text=True)
    reminders = [m for m in requests.get(f"{emulator.url}/_admin/messages", timeout=5).json()["messages"]
                 if m["kind"] == "groupmsg-remind"]
    assert len(reminders) == 3 and reminders[0]["touser"] == [ADVISOR]

    other = signed_in(library_app, "lina")
    assert post(other, f"/sidebar/mass/{mass_id}/cancel").status_code == 404
    answer = post(advisor, f"/sidebar/mass/{mass_id}/cancel")
    assert answer.status_code == 200 and "已取消群发" in answer.get_data(as_text=True)
    assert mass_sends(emulator)[0]["cancelled"] is True
    assert confirm(emulator, sent["msgid"]).status_code == 409
    assert "今日SOP" in advisor.get(f"/sidebar/tasks?chat=contact:{first}").get_data(as_text=True)
    assert set(s for s, _ in tasks_of(library_app, plan_id).values()) == {"open"}
    assert post(advisor, f"/sidebar/mass/{mass_id}/cancel").status_code == 422


def test_one_target_is_sent_from_its_chat_and_nothing_due_is_refused(library_app, setup):
    advisor, _ = setup
    answer = post(advisor, "/sidebar/tasks/mass", plan_id=999, step=0, kind="contact")
    assert answer.status_code == 422 and "没有待发送的对象" in answer.get_data(as_text=True)
    assert post(advisor, "/sidebar/tasks/mass", plan_id="x", step=0, kind="contact").status_code == 422


@pytest.fixture
def own_app(tmp_path, own_emulator):
    """The app on an emulator of its own (the test removes a friend), console staff with their roles."""
    from helpers import CONSOLE_STAFF
    from sidebar.identity.service import grant_role

    app = make_app(tmp_path / "sidebar.db", own_emulator.url)
    with app.app_context():
        for userid, role in CONSOLE_STAFF.items():
            grant_role(userid, role)
            db.session.commit()
    return app


def test_not_a_friend_and_over_the_monthly_cap_fail_and_the_results_are_read_page_by_page(own_app, own_emulator):
    world = requests.get(f"{own_emulator.url}/_admin/world", timeout=5).json()
    people = zhangweis_clients(world, 3)
    advisor = signed_in(own_app, ADVISOR)
    for person in people:
        assert advisor.get(f"/sidebar/contacts/{person['external_userid']}").status_code == 200
    import_classes(own_app, {p["unionid"]: ("C3", 300, []) for p in people})
    reached, gone, full = (p["external_userid"] for p in people)
    plan_id = client_plan(own_app, [])
    assert post(advisor, "/sidebar/tasks/mass", plan_id=plan_id, step=0, kind="contact").status_code == 200
    [sent] = mass_sends(own_emulator)

    change_world(own_emulator, "remove_follow", userid=ADVISOR, external_userid=gone, by="client")
    today = datetime.now(CHINA)
    days = calendar.monthrange(today.year, today.month)[1]
    requests.post(f"{own_emulator.url}/_admin/groupmsg", json={"received": {full: days}}, timeout=5).raise_for_status()
    assert confirm(own_emulator, sent["msgid"]).json() == {"ok": True, "sent": 1, "not_friend": 1, "over_cap": 1}

    closed = [poll(own_app, 3 + n, page_limit=1, pages_per_run=1).closed for n in range(4)]
    assert closed[:3] == [1, 1, 1], "one page a run, resumed from the stored cursor"
    tasks = tasks_of(own_app, plan_id)
    assert tasks[reached][0] == "done"
    assert tasks[gone] == ("failed", "客户已不是你的好友，群发未送达")
    assert tasks[full][0] == "failed" and "每月上限" in tasks[full][1]
    with own_app.app_context():
        assert db.session.scalars(select(SopMassSend.status)).one() == "done"


def test_the_demo_offers_a_mass_send_that_the_advisor_confirms_in_the_simulated_client(demo_server):
    world = demo_server.emulator.world.as_json()
    owner = next(g["owner"] for g in world["groups"] if g["name"] == "样板间·新客福利群")
    app = demo_server.flask_app
    advisor = signed_in(app, owner)
    today = advisor.get("/sidebar/today").get_data(as_text=True)
    assert "群发给 4 个客户" in today
    with app.app_context():
        plan_id = db.session.scalar(select(SopTask.plan_id).where(SopTask.advisor == owner, SopTask.status == "open",
                                                                  SopTask.chat_kind == "contact"))
    answer = post(advisor, "/sidebar/tasks/mass", plan_id=plan_id, step=0, kind="contact")
    assert answer.status_code == 200 and "请在企业微信「群发助手」中确认发送" in answer.get_data(as_text=True)

    emulator_url = demo_server.url + "/_wecom"
    page = requests.get(f"{emulator_url}/client", params={"userid": owner}, timeout=10).text
    assert "群发助手" in page and "尊敬的客户您好" in page
    msgid = mass_sends(None, emulator_url)[0]["msgid"]
    sent = requests.post(f"{emulator_url}/client/groupmsg/{msgid}/send", data={"userid": owner, "chat": "normal"},
                         timeout=10, allow_redirects=False)
    assert sent.status_code == 303 and "群发已发送" in requests.utils.unquote(sent.headers["Location"])
    assert poll(app, 5).closed == 4
    assert "按时完成 4" in advisor.get("/sidebar/today").get_data(as_text=True)


def test_a_group_step_goes_as_a_group_mass_send_to_the_owners_groups(library_app, emulator, world):
    owned = [g for g in world["groups"] if g["owner"] == ADVISOR][:2]
    advisor = signed_in(library_app, ADVISOR)
    for g in owned:
        assert advisor.get(f"/sidebar/groups/{g['chat_id']}").status_code == 200  # stored
    start = (datetime.now(CHINA) - timedelta(minutes=5)).replace(second=0, microsecond=0)
    with library_app.app_context():
        plan = plans.import_plans("wangyun", [{
            "name": "周三直播预告", "kind": "group", "groups": [g["chat_id"] for g in owned], "holdout": 0,
            "steps": [{"at": {"datetime": start.isoformat()}, "window_minutes": 60, "text": "{顾问姓名}：今晚 8 点直播",
                       "materials": []}]}])[0]
        db.session.commit()
        review.submit("wangyun", plan.id)
        db.session.commit()
        review.approve("sunli", plan.id)
        db.session.commit()
        tick()
        plan_id = plan.id
    assert "群发给 2 个群" in advisor.get("/sidebar/today").get_data(as_text=True)
    assert post(advisor, "/sidebar/tasks/mass", plan_id=plan_id, step=0, kind="group").status_code == 200
    [sent] = mass_sends(emulator)
    assert sent["chat_type"] == "group" and sent["text"] == "张伟：今晚 8 点直播"
    assert sorted(r["target"] for r in sent["recipients"]) == sorted(g["chat_id"] for g in owned)
    confirm(emulator, sent["msgid"])
    assert poll(library_app, 5).closed == 2
    assert {s for s, _ in tasks_of(library_app, plan_id).values()} == {"done"}


def test_a_client_who_had_this_months_mass_sends_from_us_is_left_out_and_kept_for_the_chat(
        library_app, emulator, setup):
    advisor, (full, other, _) = setup
    plan_id = client_plan(library_app, [])
    now = datetime.now(CHINA)
    days = calendar.monthrange(now.year, now.month)[1]
    with library_app.app_context():
        task = db.session.scalars(select(SopTask).where(SopTask.plan_id == plan_id, SopTask.chat_id == full)).one()
        earlier = SopMassSend(advisor=ADVISOR, plan_id=plan_id, step=0, chat_kind="contact", msgid="old", status="done",
                              text="", attachments=[], excluded=[], targets=1,
                              sent_at=(now.replace(day=1, hour=12, tzinfo=None) - timedelta(hours=8)))
        db.session.add(earlier)
        db.session.flush()
        for n in range(days):  # as many of our 群发 this month as WeCom allows
            db.session.add(SopTask(plan_id=plan_id, version_id=task.version_id, step=0, target_ref=task.target_ref,
                                   chat_kind="contact", chat_id=full, advisor=ADVISOR, status="done",
                                   due_at=task.due_at - timedelta(days=40, minutes=n), deadline=task.deadline,
                                   mass_send_id=earlier.id))
        db.session.commit()
    answer = post(advisor, "/sidebar/tasks/mass", plan_id=plan_id, step=0, kind="contact")
    assert answer.status_code == 200 and "本月已达企业微信的群发上限" in answer.get_data(as_text=True)
    [sent] = mass_sends(emulator)
    assert full not in [r["target"] for r in sent["recipients"]] and other in [r["target"] for r in sent["recipients"]]
    assert "今日SOP" in advisor.get(f"/sidebar/tasks?chat=contact:{full}").get_data(as_text=True)


def test_a_step_wecom_cannot_mass_send_leaves_no_share_prepared(library_app, emulator, setup):
    advisor, chats = setup
    mini = publish(library_app, "miniprogram", risk_level="R1", title="开户小程序")
    plan_id = client_plan(library_app, [mini])
    answer = post(advisor, "/sidebar/tasks/mass", plan_id=plan_id, step=0, kind="contact")
    assert answer.status_code == 422 and "小程序物料不能群发" in answer.get_data(as_text=True)
    assert mass_sends(emulator) == []
    with library_app.app_context():
        statuses = db.session.execute(select(Share.target_id, Share.status).where(Share.target_id.in_(chats))).all()
    assert statuses and {status for _, status in statuses} == {"cancelled"}, statuses  # no live "prepared" link left
    assert {status for status, _ in tasks_of(library_app, plan_id).values()} == {"open"}  # the chats can still send it
