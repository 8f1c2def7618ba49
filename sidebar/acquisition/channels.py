"""Channels (渠道): made, changed and retired in WeCom and here together; what a channel's form may name.

A channel's `state` is a short random code WeCom hands back with every arrival; it never changes, so an
arrival is always attributed to the channel whose code was scanned, retired or not.
"""
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import select

from ..domain.access import Unavailable
from ..extensions import db
from ..models import (CHANNEL_KINDS, Channel, CorpTag, GroupChat, Material, MaterialVersion, Staff, china_today,
                      utcnow)
from ..wecom import WeComError, WeComUnavailable

MAX_USERS = 100  # add_contact_way's user[]
MAX_CHATS = 5  # add_join_way's chat_id_list
WELCOME_KINDS = ("text", "link")  # what send_welcome_msg carries without a media upload
KIND_LABELS = {"contact": "联系我（顾问活码）", "group": "加入群聊（群活码）"}


class InvalidInput(ValueError):
    """The form names something a channel cannot have; the message says what, in Chinese."""


class NotFound(LookupError):
    """No such channel."""


@dataclass
class ChannelInput:
    """A channel's form, as the view read it."""

    name: str
    kind: str
    userids: list = field(default_factory=list)
    chat_ids: list = field(default_factory=list)
    tag_ids: list = field(default_factory=list)
    welcome_id: int | None = None


def list_channels():
    """Every channel, the live ones first, newest first."""
    return db.session.scalars(select(Channel).order_by(Channel.retired_at.is_not(None), Channel.id.desc())).all()


def get_channel(channel_id):
    """The channel, or NotFound."""
    channel = db.session.get(Channel, channel_id)
    if channel is None:
        raise NotFound(channel_id)
    return channel


def create_channel(wecom, author, data):
    """Check the form, make the code in WeCom, store the channel with its QR image; returns it.

    Boundary: the channel is committed as soon as WeCom made its code, before the next call to WeCom (the QR
    image): a code WeCom has must not be lost with a failure after it.
    """
    _check(data)
    channel = Channel(name=data.name, kind=data.kind, state="qd" + secrets.token_hex(4), userids=data.userids,
                      chat_ids=data.chat_ids, tag_ids=data.tag_ids, welcome_id=data.welcome_id, created_by=author)
    with _asking_wecom():
        if data.kind == "contact":
            channel.config_id, channel.qr_code = wecom.add_contact_way(data.userids, channel.state, data.name)
        else:
            channel.config_id, channel.qr_code = wecom.add_join_way(data.chat_ids, channel.state, data.name, data.name)
    db.session.add(channel)
    db.session.commit()
    fetch_qr(wecom, channel)
    return channel


def update_channel(wecom, channel_id, data):
    """Change a live channel: name, members or groups, tags, welcome (its kind and code stay)."""
    channel = get_channel(channel_id)
    if not channel.active:
        raise InvalidInput("渠道已停用，不能修改")
    data.kind = channel.kind
    _check(data)
    with _asking_wecom():
        if channel.kind == "contact":
            wecom.update_contact_way(channel.config_id, data.userids, channel.state, data.name)
        else:
            wecom.update_join_way(channel.config_id, data.chat_ids, channel.state, data.name, data.name)
    channel.name, channel.userids, channel.chat_ids = data.name, data.userids, data.chat_ids
    channel.tag_ids, channel.welcome_id, channel.updated_at = data.tag_ids, data.welcome_id, utcnow()
    return channel


def retire_channel(wecom, channel_id, userid):
    """Delete the code in WeCom and mark the channel retired; its arrivals stay attributed to it."""
    channel = get_channel(channel_id)
    if not channel.active:
        return channel
    with _asking_wecom():
        if channel.kind == "contact":
            wecom.del_contact_way(channel.config_id)
        else:
            wecom.del_join_way(channel.config_id)
    channel.retired_at, channel.retired_by = utcnow(), userid
    return channel


def fetch_qr(wecom, channel):
    """Fetch the code's QR image once and keep it (pages never wait on WeCom); False when it could not be."""
    if channel.qr_image or not channel.qr_code:
        return bool(channel.qr_image)
    try:
        channel.qr_image, channel.qr_type = wecom.download_image(channel.qr_code)
    except WeComUnavailable:
        return False
    return True


@contextmanager
def _asking_wecom():
    """WeCom unreachable: Unavailable (503); WeCom refusing: InvalidInput naming its errcode."""
    try:
        yield
    except WeComUnavailable as error:
        raise Unavailable(str(error)) from None
    except WeComError as error:
        raise InvalidInput(f"企业微信拒绝了这个渠道（错误码 {error.errcode}）") from None


# -- what the form may name ------------------------------------------------------------------------

def _check(data):
    """InvalidInput for a form a channel cannot be made of."""
    data.name = (data.name or "").strip()
    if not 1 <= len(data.name) <= 30:
        raise InvalidInput("渠道名称为 1 到 30 个字")
    if data.kind not in CHANNEL_KINDS:
        raise InvalidInput("请选择渠道类型")
    data.userids, data.chat_ids, data.tag_ids = (_unique(data.userids), _unique(data.chat_ids),
                                                 _unique(data.tag_ids))
    if data.kind == "contact":
        _check_staff(data.userids)
        data.chat_ids = []
    else:
        _check_groups(data.chat_ids)
        data.userids = []
    _check_tags(data.tag_ids)
    if data.welcome_id is not None and data.welcome_id not in {m.id for m, _ in welcome_choices()}:
        raise InvalidInput("欢迎语须为已审核通过、在有效期内、不限风险等级的文字或链接物料")


def _unique(values):
    """Values without blanks and repeats, in their order."""
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def _check_staff(userids):
    """1 to 100 members we know."""
    if not 1 <= len(userids) <= MAX_USERS:
        raise InvalidInput("联系我活码须选 1 到 100 位顾问")
    known = set(db.session.scalars(select(Staff.userid).where(Staff.userid.in_(userids))))
    if set(userids) - known:
        raise InvalidInput("所选顾问不存在")


def _check_groups(chat_ids):
    """1 to 5 groups that still exist."""
    if not 1 <= len(chat_ids) <= MAX_CHATS:
        raise InvalidInput("群活码须选 1 到 5 个客户群")
    live = set(db.session.scalars(select(GroupChat.chat_id).where(GroupChat.chat_id.in_(chat_ids),
                                                                  GroupChat.dismissed_at.is_(None))))
    if set(chat_ids) - live:
        raise InvalidInput("所选客户群不存在或已解散")


def _check_tags(tag_ids):
    """Corp tags we know."""
    if tag_ids and set(tag_ids) - set(db.session.scalars(select(CorpTag.tag_id).where(CorpTag.tag_id.in_(tag_ids)))):
        raise InvalidInput("所选标签不存在")


def welcome_choices(today=None):
    """[(material, live version)] a welcome may be: approved, not withdrawn, valid today, text or link, and
    general (no product risk level): a prospect has no risk class yet, so only general material suits them."""
    today = today or china_today()
    rows = db.session.execute(select(Material, MaterialVersion).join(MaterialVersion).where(
        Material.withdrawn_at.is_(None), MaterialVersion.status == "approved", Material.kind.in_(WELCOME_KINDS),
        MaterialVersion.risk_level.is_(None),
        (MaterialVersion.valid_from.is_(None)) | (MaterialVersion.valid_from <= today),
        (MaterialVersion.valid_until.is_(None)) | (MaterialVersion.valid_until >= today))
        .order_by(MaterialVersion.reviewed_at.desc())).tuples().all()
    return rows


def form_choices():
    """What the channel form offers: advisors, groups, corp tags, welcomes."""
    staff = db.session.scalars(select(Staff).order_by(Staff.name)).all()
    groups = db.session.scalars(select(GroupChat).where(GroupChat.dismissed_at.is_(None))
                                .order_by(GroupChat.name)).all()
    tags = db.session.scalars(select(CorpTag).order_by(CorpTag.group_order, CorpTag.sort_order)).all()
    return {"staff": staff, "groups": groups, "tags": tags, "welcomes": welcome_choices()}
