"""Qualified groups (合格投资者群): compliance marks a group with a class after checking every member;
product material up to that class then goes into it. A member who joins without a matching class
lifts the mark at once (sync/events.py calls recheck after each group change), until compliance
checks again. Every mark and lift is a permanent row.
"""
from dataclasses import dataclass

from ..domain.facts import members_with_profiles, risk_of
from ..extensions import db
from ..models import RISK_LEVELS, GroupChat, GroupMember, QualifiedGroup, utcnow
from .audience import mask_name

CURRENT = db.select(QualifiedGroup).where(QualifiedGroup.lifted_at.is_(None))


class NotQualified(Exception):
    """The group cannot be marked at that level: the reason names the members who fall short."""


@dataclass
class MemberCheck:
    """One external member as compliance sees it: a masked name, the class that counts today, the verdict."""

    member_id: str
    name: str
    level: str | None
    status: str  # valid, expired, missing, unmatched
    meets: bool


def current_mark(chat_id):
    """The group's live mark, or None."""
    return db.session.scalar(CURRENT.where(QualifiedGroup.chat_id == chat_id))


def passes(mark, material_level):
    """Whether a product of this level may go into a group with this mark (R<n> up to class C<n>)."""
    return bool(mark and material_level and int(material_level[1]) <= int(mark.level[1]))


def check_members(chat_id, level, today):
    """Every current external member of the group with their class and whether it meets `level`."""
    rows = members_with_profiles([GroupMember.chat_id == chat_id, GroupMember.left_at.is_(None),
                                  GroupMember.type == 2])
    return [_check(member, profile, level, today) for member, profile in rows]


def _check(member, profile, level, today):
    """A member's class against the level: no account or no valid assessment never meets it."""
    risk = risk_of(profile, today)
    status = "unmatched" if profile is None else risk.status
    effective = risk.effective
    meets = effective is not None and int(effective[1]) >= int(level[1])
    return MemberCheck(member.member_id, mask_name(member.group_nickname or member.name), effective, status, meets)


def mark(userid, chat_id, level, today):
    """Mark a live group qualified at `level` after checking every member; NotQualified names who falls short."""
    if level not in RISK_LEVELS:
        raise NotQualified("请选择客户等级 C1–C5")
    group = db.session.get(GroupChat, chat_id)
    if group is None or group.dismissed_at is not None:
        raise NotQualified("该群不存在或已解散")
    checks = check_members(chat_id, level, today)
    short = [c for c in checks if not c.meets]
    if short:
        names = "、".join(f"{c.name}（{member_words(c)}）" for c in short[:10])
        raise NotQualified(f"有 {len(short)} 位成员不满足 {level}：{names}")
    _lift_current(chat_id, userid, "合规重新标记")
    row = QualifiedGroup(chat_id=chat_id, level=level, marked_by=userid, members=[c.member_id for c in checks],
                         checks=[{"name": c.name, "class": c.level} for c in checks])
    db.session.add(row)
    db.session.flush()
    return row


def lift(userid, chat_id, reason="合规取消标记"):
    """Compliance lifts the group's mark; returns the lifted row or None when there was none."""
    row = _lift_current(chat_id, userid, reason)
    db.session.flush()
    return row


def recheck(chat_id, today):
    """After a group change: a member who joined since the check without a matching class lifts the mark.

    Members who joined with a matching class are added to the checked list. Returns the lifted row or None.
    """
    row = current_mark(chat_id)
    if row is None:
        return None
    group = db.session.get(GroupChat, chat_id)
    if group is None or group.dismissed_at is not None:
        return _lift_current(chat_id, None, "群已解散")
    newcomers = [c for c in check_members(chat_id, row.level, today) if c.member_id not in set(row.members)]
    short = [c for c in newcomers if not c.meets]
    if short:
        names = "、".join(f"{c.name}（{member_words(c)}）" for c in short[:10])
        return _lift_current(chat_id, None, f"新成员不满足 {row.level}：{names}")
    if newcomers:
        row.members = [*row.members, *(c.member_id for c in newcomers)]
        db.session.flush()
    return None


def member_words(check):
    """How a member's class reads to compliance: C2, 测评已过期, 未测评, 未匹配资金账户."""
    if check.level:
        return check.level
    return {"expired": "测评已过期", "missing": "未测评", "unmatched": "未匹配资金账户"}[check.status]


def history(chat_id):
    """Every mark of the group, newest first."""
    return list(db.session.scalars(db.select(QualifiedGroup).where(QualifiedGroup.chat_id == chat_id)
                                   .order_by(QualifiedGroup.marked_at.desc(), QualifiedGroup.id.desc())))


def overview(limit=50):
    """(live marks, recently lifted ones) with their group names, for compliance's list."""
    rows = db.session.execute(db.select(QualifiedGroup, GroupChat.name).join(
        GroupChat, GroupChat.chat_id == QualifiedGroup.chat_id)
        .order_by(QualifiedGroup.marked_at.desc(), QualifiedGroup.id.desc()).limit(limit)).all()
    live = [(row, name) for row, name in rows if row.lifted_at is None]
    lifted = sorted(((row, name) for row, name in rows if row.lifted_at is not None),
                    key=lambda pair: pair[0].lifted_at, reverse=True)
    return live, lifted


def _lift_current(chat_id, userid, reason):
    """Lift the live mark (uncommitted); returns it or None."""
    row = current_mark(chat_id)
    if row is not None:
        row.lifted_at, row.lifted_by, row.lift_reason = utcnow(), userid, reason
    return row
