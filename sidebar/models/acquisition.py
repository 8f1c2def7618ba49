"""Acquisition models: channels (a contact-me or group join code) and the arrivals they bring. No I/O here."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .core import utcnow

CHANNEL_KINDS = ("contact", "group")
# What became of an arrival's welcome: sent; none (no WelcomeCode: an admin's welcome went instead);
# taken (41051: another app sent first); late (past WeCom's 20 s); failed; retired (the channel was);
# unset (the channel has no welcome); pending (not tried yet)
WELCOME_STATES = ("sent", "none", "taken", "late", "failed", "retired", "unset", "pending")


class Channel(db.Model):
    """An acquisition channel (渠道): its code in WeCom, the tags it puts on arrivals, its welcome."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(8))  # contact (联系我), group (加入群聊)
    state: Mapped[str] = mapped_column(String(30), unique=True)  # the `state` WeCom hands back on arrival
    config_id: Mapped[str | None] = mapped_column(String(64))
    qr_code: Mapped[str | None] = mapped_column(String(1024))  # WeCom's image URL
    qr_image: Mapped[bytes | None] = mapped_column(LargeBinary)  # fetched once: pages never wait on WeCom
    qr_type: Mapped[str | None] = mapped_column(String(32))
    userids: Mapped[list] = mapped_column(JSON, default=list)
    chat_ids: Mapped[list] = mapped_column(JSON, default=list)
    tag_ids: Mapped[list] = mapped_column(JSON, default=list)
    welcome_id: Mapped[int | None] = mapped_column(ForeignKey("material.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
    retired_by: Mapped[str | None] = mapped_column(String(64))

    arrivals: Mapped[list["ChannelArrival"]] = relationship(back_populates="channel")

    @property
    def active(self):
        """True until the channel is retired."""
        return self.retired_at is None


class ChannelArrival(db.Model):
    """Someone who came in through a channel's code: a new contact of an advisor, or a group member.

    `first` marks the arrival a contact is attributed to (their earliest); later ones are recorded too.
    """

    __table_args__ = (Index("ix_channel_arrival_contact", "external_userid", "arrived_at"),
                      Index("ix_channel_arrival_channel", "channel_id", "arrived_at"),
                      Index("ix_channel_arrival_chat", "chat_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    source_key: Mapped[str] = mapped_column(String(160), unique=True)  # one row per add or join, however often told
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channel.id"))
    state: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(8))  # contact, group
    external_userid: Mapped[str] = mapped_column(String(64))
    userid: Mapped[str | None] = mapped_column(String(64))  # the advisor added, or the group's owner
    chat_id: Mapped[str | None] = mapped_column(String(64))
    arrived_at: Mapped[datetime] = mapped_column(default=utcnow)
    first: Mapped[bool] = mapped_column(default=False)
    welcome: Mapped[str] = mapped_column(String(8), default="pending")
    welcome_error: Mapped[str | None] = mapped_column(Text)
    tagged: Mapped[bool] = mapped_column(default=False)

    channel: Mapped[Channel | None] = relationship(back_populates="arrivals")
