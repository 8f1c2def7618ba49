"""Client facts: a contact's trading profile, its risk class and dormancy, group members with their
profiles, and the labels every page and the WeCom tag mirror show for them."""
from collections import namedtuple
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby

from sqlalchemy import and_, bindparam, false, or_, select

from ..extensions import db
from ..models import ClientProfile, Follow, GroupMember

DORMANT_AFTER = timedelta(days=180)

PROFILE_GROUP = "客户画像"  # the corp tag group that mirrors profile tags into WeCom (sync/tags.py)
STAGE_LABELS = {"added": "添加", "registered": "注册", "applying": "开户中", "opened": "已开户",
                "funded": "已入金", "traded": "已交易"}
RISK_LABELS = {"C1": "保守型", "C2": "谨慎型", "C3": "稳健型", "C4": "积极型", "C5": "激进型"}
NO_VALID_ASSESSMENT = "无有效测评"  # missing or expired: one wording on every page (README, glossary)
ADD_WAYS = {0: "未知来源", 1: "扫描二维码", 2: "搜索手机号", 3: "名片分享", 4: "群聊", 5: "手机通讯录",
            6: "微信联系人", 8: "第三方应用", 9: "搜索邮箱", 10: "视频号", 16: "获客链接", 201: "内部成员共享",
            202: "管理员/负责人分配"}

# Built once (see access.ACTIVE_FOLLOW).
PROFILE_OF = (db.select(ClientProfile).where(ClientProfile.external_userid == bindparam("external_userid"))
              .order_by(ClientProfile.updated_at.desc()).limit(1))

MEMBER_COLUMNS = (GroupMember.chat_id, GroupMember.member_id, GroupMember.type, GroupMember.name,
                  GroupMember.group_nickname, GroupMember.unionid, GroupMember.is_admin, GroupMember.joined_at,
                  GroupMember.left_at)
# Read in the same row as the member: a matched member's row serves as its profile too.
PROFILE_COLUMNS = (ClientProfile.account_id, ClientProfile.external_userid,
                   ClientProfile.unionid.label("profile_unionid"), ClientProfile.stage, ClientProfile.stage_dates,
                   ClientProfile.risk_level, ClientProfile.risk_expires, ClientProfile.total_assets,
                   ClientProfile.last_trade_date)
# A plain named tuple per row: reading a field of SQLAlchemy's Row costs ~20× more, and the panel reads
# a dozen fields of each of up to 500 members several times.
MemberWithProfile = namedtuple("MemberWithProfile",
                               [column.key for column in (*MEMBER_COLUMNS, *PROFILE_COLUMNS)] + ["followed"])


@dataclass
class Risk:
    """The client's suitability class as it counts today."""

    level: str | None
    label: str
    expires: date | None
    status: str  # valid, expired, missing

    @property
    def effective(self):
        """The class a share check may use: None when missing or expired."""
        return self.level if self.status == "valid" else None


def profile_of(external_userid):
    """The linked trading account, the most recently updated if there are several."""
    return db.session.scalar(PROFILE_OF, {"external_userid": external_userid})


def is_dormant(profile, today):
    """沉睡: a funded client with no trade for 180 days (or never, 180 days after funding)."""
    if profile is None or profile.stage not in ("funded", "traded"):
        return False
    funded = (profile.stage_dates or {}).get("funded")
    last = profile.last_trade_date or (date.fromisoformat(funded) if funded else None)
    return last is not None and today - last > DORMANT_AFTER


def risk_of(profile, today):
    """The risk class with its status: an expired or missing assessment counts as unknown."""
    level = profile.risk_level if profile else None
    expires = profile.risk_expires if profile else None
    if not level:
        return Risk(None, NO_VALID_ASSESSMENT, expires, "missing")
    label = f"{level} {RISK_LABELS[level]}"
    if expires is not None and expires < today:
        return Risk(level, label, expires, "expired")
    return Risk(level, label, expires, "valid")


def client_members(chat_id):
    """(member row, profile) of each current external member matched to a trading account.

    For checks that need every client of a group (e.g. suitability before a share to the group).
    """
    return [(row, profile) for row, profile in members_with_profiles(
        [GroupMember.chat_id == chat_id, GroupMember.left_at.is_(None), GroupMember.type == 2]) if profile is not None]


def members_with_profiles(conditions, viewer=None):
    """(member row, matched profile or None) of the members meeting the conditions, in one query.

    A member's profile is the account linked to their contact, else the one carrying their unionid
    (how prospects nobody follows, never fetched as contacts, are recognised); the newest one wins.
    With a viewer, each row also says whether the viewer follows that member (`followed`).
    """
    followed = (select(Follow.id).where(Follow.userid == viewer, Follow.external_userid == GroupMember.member_id,
                                        Follow.ended_at.is_(None)).exists() if viewer else false())
    matches = and_(GroupMember.type == 2, or_(ClientProfile.external_userid == GroupMember.member_id,
                                              ClientProfile.unionid == GroupMember.unionid))
    rows = db.session.execute(
        select(*MEMBER_COLUMNS, *PROFILE_COLUMNS, followed.label("followed"))
        .outerjoin(ClientProfile, matches).where(*conditions)
        .order_by(GroupMember.id, ClientProfile.updated_at, ClientProfile.account_id))
    rows = map(MemberWithProfile._make, rows)
    return [_matched(list(same)) for _, same in groupby(rows, key=lambda row: (row.chat_id, row.member_id))]


def _matched(rows):
    """(member row, profile or None) from one member's rows, oldest profile first."""
    member = rows[0]
    linked = [row for row in rows if row.account_id is not None and row.external_userid == member.member_id]
    by_unionid = [row for row in rows if row.account_id is not None and member.unionid is not None
                  and row.profile_unionid == member.unionid]
    profile = (linked or by_unionid or [None])[-1]
    return member, profile


@dataclass
class Figure:
    """A conversion figure: today's value, the value on the window's first snapshot, its daily trend."""

    key: str
    label: str
    now: object
    start: object
    trend: object  # insight.charts.Trend, or None

    @property
    def ratio(self):
        """now / start, or None when there is no start or it was zero."""
        return float(self.now) / float(self.start) if self.start else None

    @property
    def times(self):
        """↑5×, ↑1.3×, ↑15×, ↓0.8×, 持平 — or — when there is nothing to compare with.

        The arrow says which way before the number is read; ×N alone read as an error mark.
        """
        if self.ratio is None:
            return "—"
        digits = 0 if self.ratio >= 10 else 1 if self.ratio >= 0.1 else 2
        number = f"{self.ratio:.{digits}f}".removesuffix(".0")
        if number == "1":
            return "持平"
        return f"{'↑' if self.ratio > 1 else '↓'}{number}×"

    @property
    def direction(self):
        """up, down or flat (as times shows it), for its colour."""
        if self.times in ("—", "持平"):
            return "" if self.ratio is None else "flat"
        return "up" if self.ratio > 1 else "down"
