"""Tracked links (雷达): record each open of a shared article, tell the advisor about the first one."""
import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, update

from ..extensions import db
from ..queue import enqueue
from ..models import LinkOpen, Material, MaterialVersion, Share, Staff, china_today, utcnow
from .review import state_of

TOKEN = re.compile(r"[A-Za-z0-9_-]{16,32}")
DEVICE_LABELS = {"phone": "手机", "tablet": "平板", "desktop": "电脑", "bot": "程序", "unknown": "未知设备"}
SHOWN_SHARES = 10


class UnknownLink(Exception):
    """No tracked link with this token."""


class Offline(Exception):
    """The material was withdrawn or has expired since it was shared."""


@dataclass
class SharedItem:
    """A share as the client panel lists it."""

    title: str
    kind: str
    advisor: str
    sent_at: datetime
    opens: int
    first_opened_at: datetime | None
    tracked: bool


def share_by_token(token):
    """The share behind a tracked link, or UnknownLink."""
    share = db.session.scalar(db.select(Share).where(Share.token == token)) if TOKEN.fullmatch(token or "") else None
    if share is None:
        raise UnknownLink
    return share


def open_link(token, user_agent, remote_addr, staff_viewer=None, now=None):
    """Record a client's open and return where the article lives; the first open notifies the advisor.

    Opens by a signed-in staff member (the advisor checking their own card) are not the client's.
    """
    share = share_by_token(token)
    material = share.version.material
    if material.kind != "link":
        raise UnknownLink
    if not staff_viewer:
        _record_open(share, user_agent, remote_addr, now or utcnow())
    if state_of(material, china_today()).code != "approved":
        raise Offline
    return material.live.url  # the approved article now: a corrected version replaces the one shared


def network_of(address):
    """The client's network, never the whole address: IPv4 /24, IPv6 /48."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def device_of(user_agent):
    """phone, tablet, desktop, bot or unknown, from the User-Agent."""
    agent = (user_agent or "").lower()
    if not agent:
        return "unknown"
    if re.search(r"bot|spider|crawler|preview|curl|python-requests", agent):
        return "bot"
    if "ipad" in agent or ("android" in agent and "mobile" not in agent):
        return "tablet"
    if re.search(r"iphone|android|mobile|harmonyos", agent):
        return "phone"
    return "desktop"


def opens_of(share_id):
    """The number of opens of a share, as a correlated subquery (an index lookup per share)."""
    return db.select(func.count(LinkOpen.id)).where(LinkOpen.share_id == share_id).scalar_subquery()


# Built once, as the client panel's other statements (see insight/service.ACTIVE_FOLLOW).
SHARES_TO_CONTACT = (
    db.select(MaterialVersion.title, Material.kind, func.coalesce(Staff.name, Share.advisor),
              func.coalesce(Share.result_at, Share.created_at), opens_of(Share.id), Share.first_opened_at)
    .join(MaterialVersion, MaterialVersion.id == Share.version_id).join(Material, Material.id == Share.material_id)
    .outerjoin(Staff, Staff.userid == Share.advisor)
    .where(Share.target_type == "contact", Share.target_id == bindparam("external_userid"), Share.status == "sent")
    .order_by(Share.created_at.desc()).limit(bindparam("limit")))


def shares_for_contact(external_userid, limit=SHOWN_SHARES):
    """What was sent to this client (by any advisor), newest first, with its opens (one query)."""
    rows = db.session.execute(SHARES_TO_CONTACT, {"external_userid": external_userid, "limit": limit}).all()
    return [SharedItem(title=title, kind=kind, advisor=advisor, sent_at=sent_at, opens=opens,
                       first_opened_at=first, tracked=kind == "link")
            for title, kind, advisor, sent_at, opens, first in rows]


def _record_open(share, user_agent, remote_addr, now):
    """Store the open; whoever sets first_opened_at first has the worker send the advisor an app message."""
    db.session.add(LinkOpen(share_id=share.id, opened_at=now, device=device_of(user_agent),
                            network=network_of(remote_addr)))
    first = db.session.execute(update(Share).where(Share.id == share.id, Share.first_opened_at.is_(None))
                               .values(first_opened_at=now)).rowcount
    db.session.commit()
    if first:
        enqueue("open-notice", share.id)  # WeCom slow or down must not hold the client's redirect


def notify_first_open(client, share_id):
    """客户张三 打开了《…》: the app message to the advisor (in the worker, which retries a WeCom failure)."""
    share = db.session.get(Share, share_id)
    who = f"客户{share.target_name}" if share.target_type == "contact" else f"客户群「{share.target_name}」中有人"
    client.send_text_message(share.advisor, f"{who} 打开了《{share.version.title}》")
