"""Group insight models: the daily figures of each customer group. No I/O here."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .core import utcnow


class GroupSnapshot(db.Model):
    """A group's composition and client figures on one day: one row per group and date.

    No foreign key to group_chat: the demo back-fills history for groups the sidebar has not
    fetched yet, and a snapshot is a record of the past that outlives any change to the group row.
    """

    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    members: Mapped[int]
    staff: Mapped[int]
    externals: Mapped[int]
    clients: Mapped[int]  # external members matched to a trading account, any stage
    opened: Mapped[int]  # of them, account opened or further
    funded: Mapped[int]  # of them, funded or traded
    client_assets: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
