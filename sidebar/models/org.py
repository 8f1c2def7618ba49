"""The firm's organisation and its WeCom service statistics: departments, daily activity per advisor and
per group owner. No I/O here."""
from datetime import date, datetime

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .core import utcnow


class Department(db.Model):
    """A WeCom department (department/list): head office at the root (parentid 0), branches below it."""

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(64))
    parentid: Mapped[int]
    order: Mapped[int] = mapped_column(default=0)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


class AdvisorActivity(db.Model):
    """One advisor's WeCom service statistics for one China day (get_user_behavior_data, T+1)."""

    __tablename__ = "advisor_activity"

    userid: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    chat_cnt: Mapped[int]
    message_cnt: Mapped[int]
    reply_percentage: Mapped[float | None] = mapped_column(Float)  # WeCom leaves it out on a day without chats
    avg_reply_time: Mapped[float | None] = mapped_column(Float)  # minutes to the first reply, single chats
    negative_feedback_cnt: Mapped[int]  # contacts who deleted or blocked the advisor
    new_apply_cnt: Mapped[int]
    new_contact_cnt: Mapped[int]
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


class GroupActivity(db.Model):
    """A group owner's customer-group statistics for one China day (groupchat/statistic, T+1); zeros when
    the owner had no group that day, so that the day counts as fetched."""

    __tablename__ = "group_activity"

    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    new_chat_cnt: Mapped[int]
    chat_total: Mapped[int]
    chat_has_msg: Mapped[int]
    new_member_cnt: Mapped[int]
    member_total: Mapped[int]
    member_has_msg: Mapped[int]
    msg_total: Mapped[int]
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
