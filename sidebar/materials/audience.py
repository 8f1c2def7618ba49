"""Who a share would reach: the client of a 1:1 chat, or the client members of a group, with their
suitability class (适当性) as it counts today. Authorisation and matching are the panels' own.
"""
import re
from dataclasses import dataclass, field

from ..domain.access import ID_PATTERN, NotVisible, find_follow, find_group, in_group
from ..domain.facts import client_members, profile_of, risk_of
from ..extensions import db
from ..models import QualifiedGroup

QUALIFIED = db.select(QualifiedGroup.level).where(QualifiedGroup.lifted_at.is_(None))

TARGET = re.compile(r"(contact|group):(.+)")


@dataclass
class Client:
    """A client the share would reach: a masked name and the effective class (None: unknown)."""

    name: str
    level: str | None
    status: str = "valid"  # why the class is unknown: expired, missing (no assessment), unmatched (no account)
    expires: object = None  # the assessment's end date, for the reason an expired one gives


@dataclass
class Audience:
    """The chat a share goes to and the clients in it."""

    type: str  # contact, group
    id: str
    name: str
    clients: list
    tags: list = field(default_factory=list)
    stage: str | None = None
    qualified: str | None = None  # a group's qualified-investor class (合格投资者群), set by compliance

    def allows(self, material_level):
        """Whether a material of this level may go: every client qualifies, or the group's mark covers it."""
        if self.qualified and material_level and int(material_level[1]) <= int(self.qualified[1]):
            return True
        return not self.blockers(material_level)

    @property
    def target(self):
        """The form value that names this chat: contact:<id> or group:<id>."""
        return f"{self.type}:{self.id}"

    @property
    def client_class(self):
        """For the audit: the class of the client, or of the least tolerant client of a group."""
        if not self.clients:
            return None
        if any(c.level is None for c in self.clients):
            return "unknown"
        return min(c.level for c in self.clients)

    def blockers(self, material_level):
        """The clients who may not receive a material of this level."""
        return [c for c in self.clients if not suitable(c.level, material_level)]


def suitable(client_level, material_level):
    """Rn needs class Cn or above (so C1 gets R1 only); unknown classes get general material only."""
    if material_level is None:
        return True
    if client_level is None:
        return False
    return int(material_level[1]) <= int(client_level[1])


def audience_for(wecom, advisor, target, today):
    """The audience of `contact:<id>` / `group:<id>` for this advisor; NotVisible when not theirs."""
    match = TARGET.fullmatch(target or "")
    if not match or not ID_PATTERN.fullmatch(match.group(2)):
        raise NotVisible
    kind, object_id = match.groups()
    if kind == "contact":
        return _contact_audience(wecom, advisor, object_id, today)
    return _group_audience(wecom, advisor, object_id, today)


def mask_name(name):
    """张* / 欧** : the first character only."""
    name = (name or "").strip()
    return (name[:1] + "*" * max(len(name) - 1, 1)) if name else "未知成员"


def _contact_audience(wecom, advisor, external_userid, today):
    """The client of a 1:1 chat (a contact without an account counts as unknown class)."""
    follow = find_follow(wecom, advisor, external_userid)
    profile = profile_of(external_userid)
    name = follow.remark or follow.contact.name
    tags = list(profile.tags or []) if profile else []
    tags += [t["tag_name"] for t in follow.tags or [] if t.get("tag_name")]
    return Audience("contact", external_userid, name, [client_of(mask_name(name), profile, today)],
                    tags=list(dict.fromkeys(tags)), stage=profile.stage if profile else None)


def _group_audience(wecom, advisor, chat_id, today):
    """The matched client members of a group the advisor is in (owner, admin or member)."""
    group = find_group(wecom, advisor, chat_id)
    if not in_group(group, advisor):  # a manager may read a branch group; only its own staff share into it
        raise NotVisible
    clients = [client_of(mask_name(member.group_nickname or member.name), profile, today)
               for member, profile in client_members(chat_id)]
    mark = db.session.scalar(QUALIFIED.where(QualifiedGroup.chat_id == chat_id))
    return Audience("group", chat_id, group.name or "未命名客户群", clients, qualified=mark)


def client_of(name, profile, today):
    """A client with the class that counts today and, when unknown, the true reason."""
    risk = risk_of(profile, today)
    return Client(name, risk.effective, "unmatched" if profile is None else risk.status, risk.expires)
