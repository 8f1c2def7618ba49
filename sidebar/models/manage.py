"""Branch management models: when each journey step became known, and head office's scorecard. No I/O."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .core import utcnow

# A journey stage of STAGES, or "woken": a dormant client's first trade after 180 days and more.
EVENT_KINDS = ("registered", "applying", "opened", "funded", "traded", "woken")


class JourneyEvent(db.Model):
    """A step of an account's journey as the import first learnt of it: its day, and the moment we knew.

    Stage dates are days; the live openings page compares "by this time of day", which only the
    moment the trading system pushed the step can tell.
    """

    __table_args__ = (UniqueConstraint("account_id", "kind", "day"),
                      Index("ix_journey_event_day", "day", "kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    day: Mapped[date]  # the China day the step happened
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)  # naive UTC, when the import told us


class ScoreIndicator(db.Model):
    """One indicator of head office's branch scorecard: its monthly target and weight."""

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    target: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
