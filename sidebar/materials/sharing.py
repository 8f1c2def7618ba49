"""One-tap sharing: compliance checks on the server, the sendChatMessage payload, the audit row.

Every attempt is a permanent Share row: blocked ones with their reason, the others prepared and
then marked sent, cancelled or failed by what the page reports. Nothing here edits or deletes a
share in any other way.
"""
import secrets
from dataclasses import dataclass

from blinker import Namespace
from sqlalchemy import update

from ..domain.access import NotVisible
from ..extensions import db
from ..models import Material, MaterialVersion, Share, china_today, utcnow
from ..models.materials import SHARE_RESULTS
from ..wecom import WeComError
from . import library
from .audience import audience_for
from .media import media_id_for, sent_name

# A prepared share's result was reported: features that sent through the share path (SOP tasks)
# listen here, so the library knows none of them.
share_reported = Namespace().signal("share-reported")

MEDIA_KINDS = ("image", "video", "file")
CLASS_WORDS = {None: "无有效测评"}


class Blocked(Exception):
    """A compliance rule stops the share; it is recorded with this reason."""

    def __init__(self, share, alternatives=()):
        super().__init__(share.reason)
        self.share = share
        self.alternatives = list(alternatives)  # suitable versions of the same category, to send instead


class ShareFailed(Exception):
    """The message could not be prepared (WeCom refused the media); the attempt is recorded."""


class UnknownShare(Exception):
    """No such share of this advisor."""


class AlreadyReported(Exception):
    """The share's result was reported before; a result is final."""


@dataclass
class Prepared:
    """A prepared share: the sendChatMessage argument, and a disclaimer to send after it."""

    share: Share
    message: dict
    follow_up: dict | None


def prepare_share(wecom, storage, advisor, material_id, target, links, today=None, now=None):
    """Check and prepare a share; raises NotVisible (404), Blocked (403) or ShareFailed.

    links(token) -> (tracked link URL, public cover URL) for the share's token.
    """
    today = today or china_today()
    audience = audience_for(wecom, advisor, target, today)
    material, version = _live_version(material_id)
    share = Share(advisor=advisor, material_id=material.id, version_id=version.id,
                  material_level=version.risk_level, target_type=audience.type, target_id=audience.id,
                  target_name=audience.name, client_class=audience.client_class,
                  checks=_checks(audience, version.risk_level))
    reason = blocking_reason(material, version, audience, today)
    if reason:
        _record(share, "blocked", reason)
        suitability = not audience.allows(version.risk_level)  # not withdrawn or out of date: others may do
        others = library.alternatives(audience, [version], today)[version.id] if suitability else []
        raise Blocked(share, others)
    share.token = secrets.token_urlsafe(16)
    try:
        message, follow_up = build_message(wecom, storage, version, *links(share.token), now=now)
    except WeComError:  # nothing to undo: a media_id remembered before it is as good as any
        _record(share, "failed", "物料上传到企业微信失败")
        raise ShareFailed from None
    share.message = {"message": message, "follow_up": follow_up}
    _record(share, "prepared")
    return Prepared(share, message, follow_up)


def report_result(advisor, share_id, result):
    """The page's report of what became of a prepared share: sent, cancelled or failed (once)."""
    if result not in SHARE_RESULTS:
        raise ValueError("result 只能是 sent、cancelled 或 failed")
    share = db.session.get(Share, share_id)
    if share is None or share.advisor != advisor:
        raise UnknownShare
    changed = db.session.execute(update(Share).where(Share.id == share.id, Share.status == "prepared")
                                 .values(status=result, result_at=utcnow())).rowcount
    if not changed:
        raise AlreadyReported
    return share


def blocking_reason(material, version, audience, today):
    """Why this material may not go to this chat now, or None."""
    if material.withdrawn_at:
        return "该物料已下架，不能再发送"
    if version.valid_from and version.valid_from > today:
        return f"该物料 {version.valid_from:%Y-%m-%d} 起才能发送"
    if version.valid_until and version.valid_until < today:
        return f"该物料已于 {version.valid_until:%Y-%m-%d} 过期，不能再发送"
    if audience.allows(version.risk_level):
        return None
    blockers = audience.blockers(version.risk_level)
    level = version.risk_level
    if audience.type == "contact":
        return contact_reason(blockers[0], level)
    names = "、".join(f"{c.name}（{class_words(c)}）" for c in blockers[:10])
    more = f" 等 {len(blockers)} 人" if len(blockers) > 10 else ""
    return f"群内有 {len(blockers)} 位客户不适合 {level} 产品物料：{names}{more}"


def contact_reason(client, level):
    """The true reason one client may not receive a product: no account, no assessment, an expired one, or
    a class below the level (each asks for a different next step)."""
    if client.status == "unmatched":
        return f"该客户未匹配资金账户，无有效测评，只能发送通用物料，不能发送 {level} 产品物料"
    if client.status == "expired":
        return (f"该客户的风险测评已于 {client.expires:%Y-%m-%d} 过期，无有效测评；"
                f"请先邀请客户重新测评，之前只能发送通用物料，不能发送 {level} 产品物料")
    if client.level is None:
        return f"该客户尚未完成风险测评，无有效测评，只能发送通用物料，不能发送 {level} 产品物料"
    known = client.level
    return f"适当性不匹配：客户风险等级 {known}，不能发送 {level} 产品物料（{known} 最高可接收 R{known[1]}）"


def class_words(client):
    """A group member's class as a block names it: C2, 测评已过期, 未测评."""
    if client.level:
        return client.level
    return {"expired": "测评已过期", "missing": "未测评"}.get(client.status, CLASS_WORDS[None])


def build_message(wecom, storage, version, link_url, cover_url, now=None):
    """(sendChatMessage payload, follow-up disclaimer or None) for a version of a material."""
    kind = version.material.kind
    disclaimer = version.disclaimer if version.risk_level else None
    follow_up = {"msgtype": "text", "text": {"content": disclaimer}} if disclaimer else None
    if kind == "text":
        content = version.body + (f"\n\n{disclaimer}" if disclaimer else "")
        return {"msgtype": "text", "text": {"content": content}}, None
    if kind in MEDIA_KINDS:
        media_id = media_id_for(wecom, storage, version.file, kind, sent_name(version.title, version.file), now=now)
        return {"msgtype": kind, kind: {"mediaid": media_id}}, follow_up
    if kind == "link":
        desc = " ".join(filter(None, [version.summary, disclaimer]))
        news = {"link": link_url, "title": version.title, "desc": desc,
                "imgUrl": cover_url if version.cover_sha else ""}
        return {"msgtype": "news", "news": news}, None
    card = {"appid": version.appid, "title": version.title, "imgUrl": cover_url, "page": version.page}
    return {"msgtype": "miniprogram", "miniprogram": card}, follow_up


def _live_version(material_id):
    """The material and its approved version; a material never approved is not in the library."""
    row = db.session.execute(db.select(Material, MaterialVersion).join(
        MaterialVersion, (MaterialVersion.material_id == Material.id) & (MaterialVersion.status == "approved"))
        .where(Material.id == material_id)).first()
    if row is None:
        raise NotVisible
    return row


def _checks(audience, level):
    """What was checked, for the audit: every client's class and who blocked."""
    return {"level": level, "clients": [{"name": c.name, "class": c.level} for c in audience.clients],
            "blockers": [c.name for c in audience.blockers(level)], "qualified": audience.qualified}


def _record(share, status, reason=None):
    """Add the share row with its outcome and commit.

    Boundary: the audit keeps every attempt — a blocked or failed one is committed here, because the
    request then fails (403, 502) and rolls back; a prepared one so that its token opens at once.
    """
    share.status, share.reason = status, reason
    if status != "prepared":
        share.result_at = utcnow()
    db.session.add(share)
    db.session.commit()
    return share
