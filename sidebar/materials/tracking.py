"""Tracked links (雷达): record each open of a shared article, tell the advisor about the first one."""
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, update

from .. import versions
from ..addresses import network_of
from ..extensions import db
from ..queue import enqueue
from ..masking import mask_free_text
from ..models import LinkOpen, Material, MaterialVersion, Share, Staff, china_today, utcnow
from .review import state_of

TOKEN = re.compile(r"[A-Za-z0-9_-]{16,32}")
# "bot": opens recorded before fetchers were left out (below) keep their label.
DEVICE_LABELS = {"phone": "手机", "tablet": "平板", "desktop": "电脑", "bot": "程序", "unknown": "未知设备"}
SHOWN_SHARES = 10
# Programs that fetch a link with no person reading it; they get the redirect but are no open.
# - link previews of chat apps: Slackbot, TelegramBot, Discordbot, LinkedInBot, Twitterbot,
#   facebookexternalhit (Facebook, Messenger, and iMessage, which sends it too), WhatsApp,
#   SkypeUriPreview (Skype, Teams), Embedly, Iframely, and anything naming itself a "preview";
# - search and AI crawlers: Googlebot, bingbot, Applebot, GPTBot, Baiduspider, Sogou/360/Yisou/Bytespider;
# - HTTP tools and libraries: curl, Wget, python-requests/urllib/httpx, aiohttp, Go, Java, Apache
#   HttpClient, headless Chrome.
# WeChat and WeCom draw our news card from the title and picture we send with it; their in-app
# browsers (MicroMessenger, wxwork) are a person reading, and count. A checker of theirs that
# poses as a phone cannot be told apart by its agent; one that asks with HEAD is not counted.
# "(?<!cu)bot" spares the Cubot phones' own browser.
FETCHER = re.compile(r"(?<!cu)bot|spider|crawl|preview|facebookexternalhit|whatsapp|embedly|iframely|"
                     r"curl/|wget/|python-|aiohttp|go-http-client|^java/|apache-httpclient|headlesschrome",
                     re.IGNORECASE)


class UnknownLink(Exception):
    """No tracked link with this token."""


class Offline(Exception):
    """The material was withdrawn, has expired, or is not valid yet."""


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


def open_link(token, user_agent, remote_addr, counted=True, now=None):
    """Where a tracked article lives now; a person's open is recorded, the first one notifies the advisor.

    Offline (410) when the article is withdrawn, expired or not yet valid: nobody read it, nothing is
    recorded. Not counted: a HEAD, a signed-in staff member (the advisor checking their own card),
    and the programs FETCHER names.
    """
    share = share_by_token(token)
    material = share.version.material
    if material.kind != "link":
        raise UnknownLink
    _check_online(material)
    if counted and not FETCHER.search(user_agent or ""):
        _record_open(share, user_agent, remote_addr, now or utcnow())
    return material.live.url  # the approved article now: a corrected version replaces the one shared


def cover_of(token):
    """The cover (a SHA-256) of a shared card while its material is online; UnknownLink, or Offline."""
    share = share_by_token(token)
    if not share.version.cover_sha:
        raise UnknownLink
    _check_online(share.version.material)
    return share.version.cover_sha


def _check_online(material):
    """Offline unless the material is approved, not withdrawn and within its dates (China's calendar)."""
    if state_of(material, china_today()).code != "approved":
        raise Offline


def device_of(user_agent):
    """phone, tablet, desktop or unknown, from the User-Agent (fetchers are not recorded)."""
    agent = (user_agent or "").lower()
    if not agent:
        return "unknown"
    if "ipad" in agent or ("android" in agent and "mobile" not in agent):
        return "tablet"
    if re.search(r"iphone|android|mobile|harmonyos", agent):
        return "phone"
    return "desktop"


def opens_of(share_id):
    """The number of opens of a share, as a correlated subquery (an index lookup per share)."""
    return db.select(func.count(LinkOpen.id)).where(LinkOpen.share_id == share_id).scalar_subquery()


# Built once, as the client panel's other statements (see domain/access.ACTIVE_FOLLOW).
SHARES_TO_CONTACT = (
    db.select(MaterialVersion.title, Material.kind, func.coalesce(Staff.name, Share.advisor),
              func.coalesce(Share.result_at, Share.created_at), opens_of(Share.id), Share.first_opened_at)
    .join(MaterialVersion, MaterialVersion.id == Share.version_id).join(Material, Material.id == Share.material_id)
    .outerjoin(Staff, Staff.userid == Share.advisor)
    .where(Share.target_type == "contact", Share.target_id == bindparam("external_userid"), Share.status == "sent")
    .order_by(Share.created_at.desc()).limit(bindparam("limit")))


def shares_for_contact(external_userid, limit=SHOWN_SHARES):
    """What was sent to this client (by any advisor), newest first, with its opens (one query)."""
    rows = db.session.connection().execute(SHARES_TO_CONTACT, {"external_userid": external_userid, "limit": limit})
    return [SharedItem(title=title, kind=kind, advisor=advisor, sent_at=sent_at, opens=opens,
                       first_opened_at=first, tracked=kind == "link")
            for title, kind, advisor, sent_at, opens, first in rows]


def _record_open(share, user_agent, remote_addr, now):
    """Store the open; whoever sets first_opened_at first has the worker send the advisor an app message.

    Boundary: committed before the notice is queued — the task must find the open, and is queued only once.
    """
    db.session.add(LinkOpen(share_id=share.id, opened_at=now, device=device_of(user_agent),
                            network=network_of(remote_addr)))
    # the client panel's 已读 N 次, this client's only (not every client's, as a statement on share would)
    versions.note(db.session, {versions.of(versions.CLIENTS, share.target_id)})
    first = db.session.execute(update(Share).where(Share.id == share.id, Share.first_opened_at.is_(None))
                               .values(first_opened_at=now).execution_options(**{versions.NOTED: True})).rowcount
    db.session.commit()
    if first:
        enqueue("open-notice", share.id)  # WeCom slow or down must not hold the client's redirect


def notify_first_open(wecom, share_id):
    """客户张三 打开了《…》: the app message to the advisor (in the worker, which retries a WeCom failure)."""
    share = db.session.get(Share, share_id)
    name = mask_free_text(share.target_name)  # a remark may carry the client's mobile
    who = f"客户{name}" if share.target_type == "contact" else f"客户群「{name}」中有人"
    wecom.send_text_message(share.advisor, f"{who} 打开了《{share.version.title}》")
