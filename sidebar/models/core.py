"""Core models: the local copy of WeCom's world, identity, client profiles. No I/O here."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db

ROLES = ("content", "compliance", "manager", "operator")  # operator: writes SOP plans


CHINA = timezone(timedelta(hours=8), "CST")  # the firm's calendar; no daylight saving
EARLIEST_DAY = date(1990, 1, 1)  # before China's stock exchanges opened: no date the firm keeps is older


def china_today():
    """Today's date in China, the calendar of the trading system and of the advisors."""
    return datetime.now(CHINA).date()


def china_day(moment):
    """The China calendar day of a stored naive-UTC datetime (None stays None)."""
    return (moment + CHINA.utcoffset(None)).date() if moment else None


def utcnow():
    """Naive UTC now: one convention for every timestamp column, on SQLite and PostgreSQL."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def from_epoch(seconds):
    """WeCom sends times as epoch seconds; store them as naive UTC datetimes."""
    return datetime.fromtimestamp(int(seconds), timezone.utc).replace(tzinfo=None) if seconds else None


class Staff(db.Model):
    """A corp member (advisor, editor, reviewer, manager), as user/get described them."""

    userid: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    department: Mapped[list] = mapped_column(JSON, default=list)
    position: Mapped[str | None] = mapped_column(String(128))
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


class DataVersion(db.Model):
    """A counter per kind of data or part of one, raised after every commit that wrote it (sidebar/versions.py)."""

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class Role(db.Model):
    """A console role granted to a member; every member who logs in is an advisor anyway."""

    userid: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffSession(db.Model):
    """A signed-in browser: the signed cookie names its row, and logout deletes the row, so a copy of
    the cookie opens nothing afterwards."""

    __tablename__ = "staff_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # random, carried in the session cookie
    userid: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ExternalContact(db.Model):
    """A client or prospect on WeChat (type 1) or WeCom (type 2)."""

    external_userid: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    type: Mapped[int] = mapped_column(default=1)
    gender: Mapped[int] = mapped_column(default=0)
    unionid: Mapped[str | None] = mapped_column(String(64), index=True)
    corp_name: Mapped[str | None] = mapped_column(String(128))
    position: Mapped[str | None] = mapped_column(String(128))
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)

    follows: Mapped[list["Follow"]] = relationship(back_populates="contact")


class Follow(db.Model):
    """An advisor's relation to a contact; ended, never deleted, when WeCom drops it."""

    __table_args__ = (UniqueConstraint("userid", "external_userid"),
                      Index("ix_follow_contact", "external_userid"))

    id: Mapped[int] = mapped_column(primary_key=True)
    userid: Mapped[str] = mapped_column(String(64))
    external_userid: Mapped[str] = mapped_column(ForeignKey("external_contact.external_userid"))
    remark: Mapped[str | None] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text)
    added_at: Mapped[datetime | None]
    add_way: Mapped[int | None]
    state: Mapped[str | None] = mapped_column(String(64))
    remark_mobiles: Mapped[list] = mapped_column(JSON, default=list)
    tags: Mapped[list] = mapped_column(JSON, default=list)  # [{tag_id, group_name, tag_name, type}]
    ended_at: Mapped[datetime | None]

    contact: Mapped[ExternalContact] = relationship(back_populates="follows")

    @property
    def active(self):
        """True while WeCom still has this relation."""
        return self.ended_at is None


class GroupChat(db.Model):
    """A customer group (客户群)."""

    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    owner: Mapped[str] = mapped_column(String(64))
    notice: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None]
    member_version: Mapped[str | None] = mapped_column(String(64))
    dismissed_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list["GroupMember"]] = relationship(back_populates="group")


class GroupMember(db.Model):
    """A member of a group; kept with its leave time when they go."""

    __table_args__ = (UniqueConstraint("chat_id", "member_id"),
                      Index("ix_group_member_member", "member_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[str] = mapped_column(ForeignKey("group_chat.chat_id"))
    member_id: Mapped[str] = mapped_column(String(64))  # userid (staff) or external_userid
    type: Mapped[int]  # 1 staff, 2 external
    name: Mapped[str | None] = mapped_column(String(128))
    group_nickname: Mapped[str | None] = mapped_column(String(128))
    unionid: Mapped[str | None] = mapped_column(String(64))
    joined_at: Mapped[datetime | None]
    join_scene: Mapped[int | None]
    invitor: Mapped[str | None] = mapped_column(String(64))
    is_admin: Mapped[bool] = mapped_column(default=False)
    left_at: Mapped[datetime | None]

    group: Mapped[GroupChat] = relationship(back_populates="members")

    @property
    def is_staff(self):
        """True for a corp member, False for an external contact."""
        return self.type == 1


class TokenCache(db.Model):
    """WeCom access token and JS-SDK tickets, shared by every worker and host."""

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str | None] = mapped_column(String(512))
    expires_at: Mapped[int] = mapped_column(BigInteger, default=0)  # epoch seconds
    lease_until: Mapped[int] = mapped_column(BigInteger, default=0)  # who refreshes, until when


class WeComMiss(db.Model):
    """A contact or group id WeCom lately said it does not know (or not for us): not asked again for a while."""

    __tablename__ = "wecom_miss"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # contact, group
    object_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


STAGES = ("registered", "applying", "opened", "funded", "traded")  # after "added" on WeCom
RISK_LEVELS = ("C1", "C2", "C3", "C4", "C5")


class ContactMobile(db.Model):
    """A mobile number an advisor noted for a contact (remark_mobiles): how profiles find contacts."""

    mobile: Mapped[str] = mapped_column(String(20), primary_key=True)
    external_userid: Mapped[str] = mapped_column(ForeignKey("external_contact.external_userid"),
                                                 primary_key=True)


class ClientProfile(db.Model):
    """A trading-system account as the import last described it."""

    account_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    external_userid: Mapped[str | None] = mapped_column(
        ForeignKey("external_contact.external_userid"), index=True)
    unionid: Mapped[str | None] = mapped_column(String(64), index=True)
    mobile: Mapped[str | None] = mapped_column(String(20), index=True)  # never rendered whole
    name: Mapped[str | None] = mapped_column(String(64))
    stage: Mapped[str | None] = mapped_column(String(16))
    stage_dates: Mapped[dict] = mapped_column(JSON, default=dict)  # stage -> ISO date first known
    risk_level: Mapped[str | None] = mapped_column(String(2))
    risk_expires: Mapped[date | None]
    total_assets: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    assets_as_of: Mapped[date | None]
    asset_mix: Mapped[dict] = mapped_column(JSON, default=dict)
    last_trade_date: Mapped[date | None]
    tags: Mapped[list] = mapped_column(JSON, default=list)
    branch: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AssetSnapshot(db.Model):
    """Total assets of an account on one day: one row per account and date."""

    account_id: Mapped[str] = mapped_column(ForeignKey("client_profile.account_id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    total_assets: Mapped[Decimal] = mapped_column(Numeric(18, 2))


class FollowUpNote(db.Model):
    """A follow-up note (跟进记录) an advisor wrote about a contact."""

    __table_args__ = (Index("ix_note_contact_time", "external_userid", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_userid: Mapped[str] = mapped_column(ForeignKey("external_contact.external_userid"))
    author: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClientView(db.Model):
    """Access log: who viewed which client, when; never what they saw."""

    __table_args__ = (Index("ix_client_view_contact", "external_userid", "viewed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    userid: Mapped[str] = mapped_column(String(64), index=True)
    external_userid: Mapped[str] = mapped_column(String(64))
    viewed_at: Mapped[datetime] = mapped_column(default=utcnow)
