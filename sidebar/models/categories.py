"""The library's categories, managed by the content team in the console. No I/O here.

A material version keeps its category by name (the library filters and indexes that column); a
category renamed in the console renames it in the versions too, and a retired one is no longer
offered for new materials while the materials filed under it stay valid.
"""
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .core import utcnow

MAX_CATEGORY = 16  # characters: a filter option at 360 px


class MaterialCategory(db.Model):
    """One category of the library, in the order the content team gave."""

    __tablename__ = "material_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    position: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]
