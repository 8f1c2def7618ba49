"""One-to-one from a group: a product material the group may not receive goes instead to the group's
clients who qualify and whom this advisor follows, as one `ww.shareToExternalContact` the advisor confirms.

Every target is checked as a 1:1 share would be (audience_for: the advisor's own follow, the class
today) and gets its own Share row, reported like any other. One message reaches them all, so its
tracked link is the first row's: like a group share, an open says the batch was read, not by whom.
"""
import secrets
from dataclasses import dataclass

from ..domain.access import NotVisible
from ..domain.facts import members_with_profiles, risk_of
from ..extensions import db
from ..models import GroupMember, Share, china_today
from ..wecom import WeComError
from .audience import audience_for, suitable
from .sharing import ShareFailed, _checks, _live_version, blocking_reason, build_message

MAX_TARGETS = 200  # shareToExternalContact's externalUserIds is meant for a chosen few, not a mass mailing


class NobodyQualifies(Exception):
    """No client of the group that this advisor follows may receive the material."""


@dataclass
class DirectShare:
    """The shareToExternalContact argument, the share rows (one per client) and how many were left out."""

    shares: list
    payload: dict
    skipped: int


def qualifying_targets(wecom, advisor, chat_id, material, version, today):
    """(audience, …) of the group's current clients this advisor follows who may receive the version."""
    rows = members_with_profiles([GroupMember.chat_id == chat_id, GroupMember.left_at.is_(None),
                                  GroupMember.type == 2], viewer=advisor)
    clients = [member for member, profile in rows if profile is not None]
    # Only the clients whose class fits are looked at one by one (a follow not stored yet costs a WeCom
    # lookup), the advisor's known follows first.
    fitting = sorted((m for m in clients if suitable(risk_of(m, today).effective, version.risk_level)),
                     key=lambda m: not m.followed)
    targets, skipped = [], len(clients) - len(fitting)
    for external_userid in [member.member_id for member in fitting][:MAX_TARGETS]:
        try:
            audience = audience_for(wecom, advisor, f"contact:{external_userid}", today)
        except NotVisible:  # a client of the group whom this advisor does not follow
            skipped += 1
            continue
        if blocking_reason(material, version, audience, today):
            skipped += 1
        else:
            targets.append(audience)
    return targets, skipped + max(len(fitting) - MAX_TARGETS, 0)


def prepare_direct(wecom, storage, advisor, material_id, target, links, today=None, now=None):
    """Check every qualifying client of the group `target` and prepare one message for them all.

    Raises NotVisible (not the advisor's group or material), NobodyQualifies or ShareFailed.
    """
    today = today or china_today()
    group = audience_for(wecom, advisor, target, today)
    if group.type != "group":
        raise NotVisible
    material, version = _live_version(material_id)
    targets, skipped = qualifying_targets(wecom, advisor, group.id, material, version, today)
    if not targets:
        raise NobodyQualifies
    token = secrets.token_urlsafe(16)
    try:
        message, follow_up = build_message(wecom, storage, version, *links(token), now=now)
    except WeComError:  # nothing to undo: a media_id remembered before it is as good as any
        raise ShareFailed from None
    payload = contact_payload(message, follow_up, [t.id for t in targets])
    shares = [_share(advisor, material, version, audience, group, token if index == 0 else None, payload)
              for index, audience in enumerate(targets)]
    db.session.add_all(shares)
    db.session.flush()
    return DirectShare(shares, payload, skipped)


def contact_payload(message, follow_up, external_userids):
    """sendChatMessage's message as shareToExternalContact's {text, attachments, externalUserIds}."""
    kind = message["msgtype"]
    text = message["text"]["content"] if kind == "text" else (follow_up or {}).get("text", {}).get("content", "")
    payload = {"text": {"content": text}, "attachments": [], "externalUserIds": external_userids}
    if kind == "news":
        news = message["news"]
        payload["attachments"].append({"msgtype": "link", "link": {
            "title": news["title"], "desc": news["desc"], "url": news["link"], "imgUrl": news["imgUrl"]}})
    elif kind != "text":
        payload["attachments"].append({"msgtype": kind, kind: message[kind]})
    return payload


def _share(advisor, material, version, audience, group, token, payload):
    """The audit row of one client of the batch, prepared (its result is reported by the page)."""
    checks = {**_checks(audience, version.risk_level), "via_group": group.id}
    return Share(advisor=advisor, material_id=material.id, version_id=version.id, material_level=version.risk_level,
                 target_type="contact", target_id=audience.id, target_name=audience.name,
                 client_class=audience.client_class, checks=checks, status="prepared", token=token,
                 message={"share_to_external_contact": payload})
