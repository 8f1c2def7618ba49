"""The demo's channels behind the showroom — 抖音直播, 公众号菜单, 网点海报, 投教讲座 — with 90 days of arrivals.

The contacts the emulator's world says came through a channel's state (follow_user[].state) are that
channel's arrivals; a share of the showroom's members joined through the 投教讲座 group code. Seeded once
per database; every start registers the codes again in the new emulator, so the QR codes can be scanned.
"""
import hashlib
from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..materials import review
from ..materials.forms import MaterialInput
from ..models import Channel, ChannelArrival, MaterialVersion, from_epoch, utcnow

AUTHOR, REVIEWER = "zhaomin", "sunli"  # the emulator's content and compliance members
DEMO_BY = "demo"
HISTORY_DAYS = 90
WELCOME_TITLE = "新客欢迎语"
WELCOME_BODY = ("您好，我是您的专属投资顾问，很高兴认识您！开户、入金、交易有任何问题都可以随时问我。"
                "每个交易日 8:45 我会分享早盘要点。投资有风险，入市需谨慎。")
SEMINAR_STATE = "edu_seminar"
# name, kind, advisors, groups (by name), tags (by name), the world's follow states it stands for
CHANNELS = [
    ("抖音直播", "contact", ["zhangwei", "lina"], [], ["直播"], ("live_1020", "live_link_1108")),
    ("公众号菜单", "contact", ["wangfang"], [], ["公众号"], ("gzh_menu",)),
    ("网点海报", "contact", ["liuyang"], [], ["线下活动"], ("offline_1115",)),
    ("投教讲座", "group", [], ["样板间·新客福利群", "开户咨询群"], [], (SEMINAR_STATE,)),
]


def seed_acquisition(world, emulator, api_base, storage):
    """Once per database: the welcome, the channels and their arrivals; every start: the codes in WeCom."""
    if db.session.scalar(select(Channel.id).where(Channel.created_by == DEMO_BY).limit(1)) is None:
        welcome = _welcome(storage)
        channels = [_channel(world, welcome, *row) for row in CHANNELS]
        db.session.flush()
        _arrivals(world, channels)
    channels = db.session.scalars(select(Channel).where(Channel.created_by == DEMO_BY)).all()
    for channel in channels:  # a new emulator: ids by name again, the QR code at its address
        _refresh(world, channel, api_base)
    db.session.flush()
    from ..emulator.acquisition import restore_codes

    restore_codes(emulator, [_code(world, channel) for channel in channels if channel.active])


def _welcome(storage):
    """The approved general welcome text (made once)."""
    found = db.session.scalar(select(MaterialVersion.material_id).where(MaterialVersion.title == WELCOME_TITLE))
    if found:
        return found
    data = MaterialInput(kind="text", title=WELCOME_TITLE, summary="扫码添加后自动发送", category="服务话术", tags="欢迎语",
                         risk_level=None, valid_from=None, valid_until=None, disclaimer=None, body=WELCOME_BODY,
                         url=None, appid=None, page=None, file=None, cover=None)
    material = review.create_material(storage, AUTHOR, data)
    review.submit(AUTHOR, material.id)
    review.approve(REVIEWER, material.id)
    return material.id


def _channel(world, welcome, name, kind, advisors, groups, tags, states):
    """One demo channel (its code registered with the emulator at each start)."""
    channel = Channel(name=name, kind=kind, state=states[0], config_id=f"demo-{states[0]}", userids=list(advisors),
                      chat_ids=[], tag_ids=[], welcome_id=welcome if kind == "contact" else None, created_by=DEMO_BY,
                      created_at=utcnow() - timedelta(days=HISTORY_DAYS + 10))
    db.session.add(channel)
    return channel


def _refresh(world, channel, api_base):
    """Group and tag ids of this emulator's world, by name; the QR code at this emulator's address."""
    row = next((r for r in CHANNELS if r[0] == channel.name), None)
    if row is None:
        return
    by_name = {g["name"]: g["chat_id"] for g in world["groups"]}
    tags = {t["name"]: t["id"] for group in world["tag_groups"] for t in group["tags"]}
    channel.chat_ids = [by_name[n] for n in row[3] if n in by_name]
    channel.tag_ids = [tags[n] for n in row[4] if n in tags]
    channel.qr_code, channel.qr_image = f"{api_base}/qr/{channel.config_id}.png", None


def _code(world, channel):
    """(config_id, kind, settings, joined members) of a channel, as add_contact_way/add_join_way made it."""
    if channel.kind == "contact":
        settings = {"type": 1 if len(channel.userids) == 1 else 2, "scene": 2, "remark": channel.name,
                    "skip_verify": True, "state": channel.state, "user": list(channel.userids), "party": []}
        return channel.config_id, "contact", settings, {}
    settings = {"scene": 2, "remark": channel.name, "auto_create_room": 1, "room_base_name": channel.name,
                "room_base_id": 1, "chat_id_list": list(channel.chat_ids), "state": channel.state}
    return channel.config_id, "group", settings, _seminar_members(world, channel.chat_ids)


def _seminar_members(world, chat_ids):
    """{chat_id: member ids} of the externals who joined through the seminar code in the last 90 days (40%)."""
    since = (utcnow() - timedelta(days=HISTORY_DAYS)).timestamp()
    joined = {}
    for group in world["groups"]:
        if group["chat_id"] in chat_ids:
            joined[group["chat_id"]] = [m["userid"] for m in group["members"] if m["type"] == 2
                                        and m["join_time"] >= since and _picked(m["userid"])]
    return joined


def _picked(member_id):
    """A fixed 40% of members (the same at every start)."""
    return hashlib.sha256(member_id.encode()).digest()[0] % 10 < 4


def _arrivals(world, channels):
    """90 days of arrivals: the follows whose state is a channel's, the seminar code's group members."""
    since = utcnow() - timedelta(days=HISTORY_DAYS)
    by_state = {state: channel for channel, row in zip(channels, CHANNELS) for state in row[5]}
    rows = []
    for follow in world["follows"]:
        channel, arrived = by_state.get(follow["state"]), from_epoch(follow["createtime"])
        if channel is not None and channel.kind == "contact" and arrived >= since:
            rows.append(dict(source_key=f"c:{follow['userid']}:{follow['external_userid']}:{follow['createtime']}",
                             channel=channel, kind="contact", external_userid=follow["external_userid"],
                             userid=follow["userid"], chat_id=None, arrived_at=arrived, state=follow["state"],
                             welcome="sent", tagged=True))
    seminar = next(c for c in channels if c.kind == "group")
    groups = {g["chat_id"]: g for g in world["groups"]}
    chat_ids = [g["chat_id"] for g in world["groups"] if g["name"] in CHANNELS[3][3]]
    for chat_id, members in _seminar_members(world, chat_ids).items():
        times = {m["userid"]: m["join_time"] for m in groups[chat_id]["members"]}
        for member_id in members:
            rows.append(dict(source_key=f"g:{chat_id}:{member_id}:{times[member_id]}", channel=seminar, kind="group",
                             external_userid=member_id, userid=groups[chat_id]["owner"], chat_id=chat_id,
                             arrived_at=from_epoch(times[member_id]), state=SEMINAR_STATE, welcome="unset",
                             tagged=False))
    seen = set()
    for row in sorted(rows, key=lambda r: r["arrived_at"]):
        channel = row.pop("channel")
        db.session.add(ChannelArrival(channel_id=channel.id, first=row["external_userid"] not in seen, **row))
        seen.add(row["external_userid"])
