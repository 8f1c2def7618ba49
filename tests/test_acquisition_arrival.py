"""Arrivals through a channel's code, end to end: the emulator's prospect scans, WeCom's encrypted callback
reaches the app, the worker sends the welcome first, then records the channel and puts its tags (issue 20)."""
import time

import requests
from sqlalchemy import select

from acquisition_helpers import (WELCOME_TEXT, arrivals, channel_row, fill_code, make_channel, nurture_plan, prepare,
                                 scan, tag_ids, welcomes)
from helpers import eventually, signed_in
from sidebar.extensions import db, wecom
from sidebar.models import SopTarget


def hold(emulator, on=True):
    """Hold WeCom's callbacks (on), or send the held ones (off)."""
    requests.post(f"{emulator.url}/_admin/callback/switches", json={"hold": on}, timeout=5).raise_for_status()
    if not on:
        requests.post(f"{emulator.url}/_admin/callback/release", json={}, timeout=15).raise_for_status()


def with_welcome(app, external_userid, outcome):
    """The contact's arrivals whose welcome came to outcome."""
    return [a for a in arrivals(app, external_userid=external_userid) if a["welcome"] == outcome]


def welcome_calls(emulator):
    """How many times the app called send_welcome_msg."""
    counts = requests.get(f"{emulator.url}/_admin/calls", timeout=5).json()["counts"]
    return counts.get("/cgi-bin/externalcontact/send_welcome_msg", 0)


def test_a_prospect_scans_the_live_stream_code_gets_the_welcome_and_the_sidebar_shows_channel_and_tags(
        live_app, own_emulator):
    app = live_app.flask_app
    welcome = prepare(app)
    tags = tag_ids(app, "直播", "潜在客户")
    _, config_id, _ = make_channel(app, "抖音直播", userids=["zhangwei"], tags=tags, welcome=welcome)

    started = time.monotonic()
    external_userid = scan(own_emulator, config_id, name="周小鱼")["result"]["external_userid"]
    sent = eventually(lambda: [w for w in welcomes(own_emulator) if w["chat"] == f"contact:{external_userid}"], 10)
    assert sent, "no welcome"
    assert time.monotonic() - started < 10 and sent[0]["text"] == WELCOME_TEXT and sent[0]["userid"] == "zhangwei"
    chat = requests.get(f"{own_emulator.url}/client", timeout=5,
                        params={"userid": "zhangwei", "chat": f"contact:{external_userid}"}).text
    assert WELCOME_TEXT in chat  # the simulated client shows it in the chat

    assert eventually(lambda: [a for a in arrivals(app, external_userid=external_userid) if a["tagged"]], 10)
    world = requests.get(f"{own_emulator.url}/_admin/world", timeout=5).json()
    follow = next(f for f in world["follows"] if f["external_userid"] == external_userid)
    assert set(tags) <= set(follow["tag_ids"])  # mark_tag reached WeCom
    page = signed_in(app, "zhangwei").get(f"/sidebar/contacts/{external_userid}").get_data(as_text=True)
    assert "来源" in page and "抖音直播" in page
    assert "潜在客户" in page and ">直播<" in page
    [row] = arrivals(app, external_userid=external_userid)
    assert row["welcome"] == "sent" and row["first"] and row["userid"] == "zhangwei"


def test_a_welcome_later_than_20_seconds_is_recorded_and_not_retried(live_app, own_emulator):
    app = live_app.flask_app
    _, config_id, _ = make_channel(app, "公众号菜单", userids=["lina"], welcome=prepare(app))
    hold(own_emulator)
    external_userid = scan(own_emulator, config_id, wait=False)["result"]["external_userid"]
    requests.post(f"{own_emulator.url}/_admin/clock", json={"advance": 25}, timeout=5).raise_for_status()
    hold(own_emulator, on=False)
    assert eventually(lambda: with_welcome(app, external_userid, "late"), 10)
    time.sleep(1.5)
    assert welcome_calls(own_emulator) == 1 and not welcomes(own_emulator)


def test_a_welcome_someone_else_sent_first_is_recorded_as_taken(live_app, own_emulator):
    app = live_app.flask_app
    _, config_id, _ = make_channel(app, "网点海报", userids=["wangfang"], welcome=prepare(app))
    hold(own_emulator)
    scanned = scan(own_emulator, config_id, wait=False)
    external_userid = scanned["result"]["external_userid"]
    held = requests.get(f"{own_emulator.url}/_admin/callbacks", timeout=5).json()["callbacks"]
    code = next(c["WelcomeCode"] for c in held if c.get("ExternalUserID") == external_userid)
    with app.app_context():
        wecom().send_welcome_msg(code, "另一个应用的欢迎语")
    hold(own_emulator, on=False)
    assert eventually(lambda: with_welcome(app, external_userid, "taken"), 10)
    assert [w["text"] for w in welcomes(own_emulator)] == ["另一个应用的欢迎语"]


def test_a_second_arrival_is_recorded_and_the_first_channel_kept(live_app, own_emulator):
    app = live_app.flask_app
    welcome = prepare(app)
    _, first_code, _ = make_channel(app, "抖音直播", userids=["zhangwei"], welcome=welcome)
    _, second_code, _ = make_channel(app, "投教讲座", userids=["lina"], welcome=welcome)
    external_userid = scan(own_emulator, first_code, name="钱多多")["result"]["external_userid"]
    assert eventually(lambda: with_welcome(app, external_userid, "sent"), 10)
    scan(own_emulator, second_code, external_userid=external_userid)
    rows = eventually(lambda: (lambda r: r if len(r) == 2 and all(a["welcome"] == "sent" for a in r) else None)(
        arrivals(app, external_userid=external_userid)), 10)
    assert rows, arrivals(app, external_userid=external_userid)
    assert [(a["userid"], a["first"]) for a in rows] == [("zhangwei", True), ("lina", False)]
    page = eventually(lambda: (lambda p: p if "投教讲座" in p else None)(
        signed_in(app, "lina").get(f"/sidebar/contacts/{external_userid}").get_data(as_text=True)), 10)
    assert page and page.index("抖音直播") < page.index("投教讲座")  # attributed to the first, the second noted


def test_a_retired_channels_code_brings_no_welcome_and_no_tags(live_app, own_emulator):
    from sidebar.acquisition.channels import retire_channel

    app = live_app.flask_app
    welcome = prepare(app)
    channel_id, config_id, _ = make_channel(app, "旧海报", userids=["liuyang"], tags=tag_ids(app, "线下活动"),
                                            welcome=welcome)
    hold(own_emulator)
    external_userid = scan(own_emulator, config_id, wait=False)["result"]["external_userid"]
    with app.app_context():
        retire_channel(wecom(), channel_id, "zhaomin")
        db.session.commit()
    hold(own_emulator, on=False)
    rows = eventually(lambda: with_welcome(app, external_userid, "retired"), 10)
    time.sleep(1.5)  # the callback's own processing too
    assert rows and not arrivals(app, external_userid=external_userid)[0]["tagged"]
    assert welcome_calls(own_emulator) == 0
    world = requests.get(f"{own_emulator.url}/_admin/world", timeout=5).json()
    follow = next(f for f in world["follows"] if f["external_userid"] == external_userid)
    assert follow["tag_ids"] == []


def test_a_full_group_code_makes_the_next_group_which_joins_the_nurture_plan(live_app, own_emulator):
    app = live_app.flask_app
    prepare(app)
    world = requests.get(f"{own_emulator.url}/_admin/world", timeout=5).json()
    group = world["groups"][0]
    channel_id, config_id, state = make_channel(app, "投教讲座", kind="group", chat_ids=[group["chat_id"]])
    plan_id = nurture_plan(app, group["chat_id"])
    fill_code(own_emulator, config_id)

    result = scan(own_emulator, config_id, name="新进群")["result"]
    new_chat = result["created"]
    assert new_chat and result["chat_id"] == new_chat

    def targets():
        with app.app_context():
            return db.session.scalars(select(SopTarget.target_id).where(SopTarget.plan_id == plan_id)).all()
    assert eventually(lambda: new_chat in targets(), 10), targets()
    assert channel_row(app, channel_id)["chat_ids"] == [group["chat_id"], new_chat]
    [row] = arrivals(app, external_userid=result["external_userid"])
    assert row["kind"] == "group" and row["chat_id"] == new_chat
