"""The nightly sync attributes group joins whose callback was lost, by the `state` in groupchat/get's member
list (issue 20 item 2): the same rules as the callback, and what is recorded stays as it is."""
import time

import requests
from sqlalchemy import select

from acquisition_helpers import arrivals, channel_row, fill_code, make_channel, nurture_plan, prepare, scan
from helpers import eventually
from sidebar.extensions import db, wecom
from sidebar.models import SopTarget


def drop_callbacks(emulator, on=True):
    """Lose every callback WeCom would send from now on (on), or deliver them again (off)."""
    requests.post(f"{emulator.url}/_admin/callback/switches", json={"drop": -1 if on else 0},
                  timeout=5).raise_for_status()


def nightly_sync(app):
    """A full sync run as the nightly job does; returns its counts."""
    from sidebar.sync.full import sync

    with app.app_context():
        return dict(sync(wecom(), pace=0, restart=True).counts)


def first_group(emulator):
    """The chat id of the emulator's first customer group."""
    return requests.get(f"{emulator.url}/_admin/world", timeout=5).json()["groups"][0]["chat_id"]


def source(app, external_userid):
    """The channel a contact is attributed to, and the channels of their later arrivals (来源)."""
    from sidebar.acquisition.attribution import source_of

    with app.app_context():
        found = source_of(external_userid)
        return found.channel, [name for name, _ in found.again]


def test_a_join_whose_callback_was_lost_is_attributed_by_the_sync_and_only_once(live_app, own_emulator):
    app = live_app.flask_app
    prepare(app)
    chat_id = first_group(own_emulator)
    channel_id, config_id, _ = make_channel(app, "投教讲座", kind="group", chat_ids=[chat_id])
    drop_callbacks(own_emulator)
    joined = scan(own_emulator, config_id, name="漏报者", wait=False)["result"]
    assert joined["chat_id"] == chat_id
    time.sleep(1)
    assert arrivals(app, external_userid=joined["external_userid"]) == []  # the app never heard of it

    counts = nightly_sync(app)
    assert counts["arrivals_added"] == 1
    [row] = arrivals(app, external_userid=joined["external_userid"])
    assert (row["channel_id"], row["kind"], row["chat_id"], row["first"]) == (channel_id, "group", chat_id, True)
    assert source(app, joined["external_userid"]) == ("投教讲座", [])
    assert nightly_sync(app)["arrivals_added"] == 0  # a second run records nothing again
    assert len(arrivals(app, external_userid=joined["external_userid"])) == 1


def test_the_sync_keeps_an_attribution_already_recorded(live_app, own_emulator):
    app = live_app.flask_app
    welcome = prepare(app)
    chat_id = first_group(own_emulator)
    _, contact_code, _ = make_channel(app, "抖音直播", userids=["zhangwei"], welcome=welcome)
    group_id, group_code, _ = make_channel(app, "投教讲座", kind="group", chat_ids=[chat_id])
    person = scan(own_emulator, contact_code, name="钱多多")["result"]["external_userid"]
    assert eventually(lambda: arrivals(app, external_userid=person), 10)  # the callback came: 抖音直播
    heard = scan(own_emulator, group_code, name="按时到")["result"]["external_userid"]
    assert eventually(lambda: arrivals(app, external_userid=heard), 10)  # this join's callback came too
    drop_callbacks(own_emulator)
    scan(own_emulator, group_code, external_userid=person, wait=False)  # 钱多多 joins the group, unheard

    assert nightly_sync(app)["arrivals_added"] == 1  # only the lost one
    rows = arrivals(app, external_userid=person)
    assert [(r["kind"], r["first"]) for r in rows] == [("contact", True), ("group", False)]
    assert rows[1]["channel_id"] == group_id
    assert source(app, person) == ("抖音直播", ["投教讲座"])  # the first channel kept, the second recorded
    assert len(arrivals(app, external_userid=heard)) == 1 and source(app, heard) == ("投教讲座", [])


def test_a_room_made_by_a_full_code_whose_callback_was_lost_joins_the_plan_after_the_sync(live_app, own_emulator):
    app = live_app.flask_app
    prepare(app)
    chat_id = first_group(own_emulator)
    channel_id, config_id, _ = make_channel(app, "投教讲座", kind="group", chat_ids=[chat_id])
    plan_id = nurture_plan(app, chat_id)
    fill_code(own_emulator, config_id)
    drop_callbacks(own_emulator)
    new_chat = scan(own_emulator, config_id, name="新进群", wait=False)["result"]["created"]
    assert new_chat

    nightly_sync(app)
    assert channel_row(app, channel_id)["chat_ids"] == [chat_id, new_chat]
    with app.app_context():
        targets = db.session.scalars(select(SopTarget.target_id).where(SopTarget.plan_id == plan_id)).all()
    assert new_chat in targets


def test_a_retired_channel_keeps_its_history_but_takes_no_group_back(live_app, own_emulator):
    from sidebar.acquisition.channels import ChannelInput, retire_channel, update_channel

    app = live_app.flask_app
    prepare(app)
    world = requests.get(f"{own_emulator.url}/_admin/world", timeout=5).json()
    first, second = world["groups"][0]["chat_id"], world["groups"][1]["chat_id"]
    channel_id, config_id, _ = make_channel(app, "旧讲座", kind="group", chat_ids=[first, second])
    drop_callbacks(own_emulator)
    joined = scan(own_emulator, config_id, name="旧客", wait=False)["result"]
    assert joined["chat_id"] == first
    with app.app_context():
        update_channel(wecom(), channel_id, ChannelInput("旧讲座", "group", chat_ids=[second]))  # first taken off
        retire_channel(wecom(), channel_id, "zhaomin")
        db.session.commit()  # as the console's request would

    nightly_sync(app)
    [row] = arrivals(app, external_userid=joined["external_userid"])
    assert row["channel_id"] == channel_id and row["chat_id"] == first  # who came through it still did
    assert channel_row(app, channel_id)["chat_ids"] == [second]  # a group taken off is not taken back
