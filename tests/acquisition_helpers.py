"""Shared set-up of the acquisition tests: the world synced in, an operator, a welcome material, channels."""
import requests
from sqlalchemy import select

from helpers import publish
from sidebar.extensions import db, wecom
from sidebar.models import Channel, ChannelArrival, CorpTag

OPERATOR, REVIEWER, CONTENT = "zhaomin", "sunli", "zhaomin"
WELCOME_TEXT = "您好，欢迎关注！开户、入金有任何问题都可以随时问我。"


def prepare(app):
    """Sync the emulator's world in and grant the roles; returns the id of an approved general welcome text."""
    from sidebar.identity.service import grant_role
    from sidebar.sync.full import sync

    with app.app_context():
        sync(wecom(), pace=0)
        grant_role(OPERATOR, "operator")
        grant_role(CONTENT, "content")
        grant_role(REVIEWER, "compliance")
        db.session.commit()
    return publish(app, kind="text", title="新客欢迎语", body=WELCOME_TEXT)


def tag_ids(app, *names):
    """Corp tag ids by tag name (the synced mirror)."""
    with app.app_context():
        rows = db.session.execute(select(CorpTag.name, CorpTag.tag_id).where(CorpTag.name.in_(names)))
        found = dict(rows.tuples().all())
    return [found[name] for name in names]


def make_channel(app, name, kind="contact", userids=(), chat_ids=(), tags=(), welcome=None):
    """A channel made through the service (WeCom's code included); returns (id, config_id, state)."""
    from sidebar.acquisition.channels import ChannelInput, create_channel

    with app.app_context():
        channel = create_channel(wecom(), OPERATOR, ChannelInput(name, kind, list(userids), list(chat_ids), list(tags),
                                                                  welcome))
        db.session.commit()  # the QR image fetched after the channel's own commit, as the console's request keeps it
        return channel.id, channel.config_id, channel.state


def scan(emulator, config_id, **args):
    """A prospect scans a code in the emulator; returns its answer (callbacks delivered unless wait=False)."""
    answer = requests.post(f"{emulator.url}/_admin/scan", json={"config_id": config_id, **args}, timeout=15)
    assert answer.status_code == 200, answer.text
    return answer.json()


def arrivals(app, **where):
    """The arrivals recorded (filtered by column values), oldest first, as dicts."""
    with app.app_context():
        query = select(ChannelArrival).order_by(ChannelArrival.arrived_at, ChannelArrival.id)
        for column, value in where.items():
            query = query.where(getattr(ChannelArrival, column) == value)
        return [{c: getattr(row, c) for c in ("channel_id", "kind", "external_userid", "userid", "chat_id", "first",
                                              "welcome", "tagged")} for row in db.session.scalars(query)]


def channel_row(app, channel_id):
    """A channel's stored columns as a dict."""
    with app.app_context():
        channel = db.session.get(Channel, channel_id)
        return {"chat_ids": list(channel.chat_ids), "active": channel.active, "userids": list(channel.userids)}


def welcomes(emulator):
    """The welcomes the emulator received through send_welcome_msg."""
    messages = requests.get(f"{emulator.url}/_admin/messages", timeout=5).json()["messages"]
    return [m for m in messages if m.get("kind") == "welcome"]


def add_arrival(name, external_userid, arrived, userid="zhangwei"):
    """A contact's arrival through the channel named `name` (made as a plain row if new) at China time
    'YYYY-MM-DD HH:MM'; call inside an app context."""
    from sop_helpers import utc

    channel = db.session.scalar(select(Channel).where(Channel.name == name))
    if channel is None:
        channel = Channel(name=name, kind="contact", state="st_" + name.encode().hex()[:26],
                          created_by=OPERATOR)
        db.session.add(channel)
        db.session.flush()
    db.session.add(ChannelArrival(source_key=f"{channel.id}:{external_userid}:{arrived}", channel_id=channel.id,
                                  state=channel.state, kind="contact", external_userid=external_userid, userid=userid,
                                  arrived_at=utc(arrived)))
    db.session.flush()


def nurture_plan(app, chat_id):
    """A live group plan (新客培育) on the group, ticked once: its targets are the groups it runs on."""
    from sidebar.identity.service import grant_role
    from sidebar.sop.tick import tick
    from sop_helpers import OPERATOR as SOP_OPERATOR, live_plan

    with app.app_context():
        grant_role(SOP_OPERATOR, "operator")
        db.session.commit()
    plan_id = live_plan(app, {"name": "新客培育", "kind": "group", "groups": [chat_id], "group_rule": {},
                              "steps": [{"at": {"day": 0, "time": "20:00"}, "window_minutes": 60,
                                         "text": "欢迎新朋友！", "materials": []}], "holdout": 0})
    with app.app_context():
        tick()
    return plan_id


def fill_code(emulator, config_id):
    """The code's groups are full: the next scan makes a new group."""
    requests.post(f"{emulator.url}/_admin/ways/capacity", json={"config_id": config_id, "capacity": 0},
                  timeout=5).raise_for_status()
