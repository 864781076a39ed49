"""A crosswalk between two boundary sets, stored with the set versions it was made from."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.dbtypes import UTCDateTime, utcnow
from tracker.extensions import db


class Crosswalk(db.Model):
    """Old units of ``from_set`` → new units of ``to_set``, as of the two sets' versions.

    A crosswalk whose versions differ from the sets' current ones is stale:
    the next use computes a new one (the old rows stay, as history).
    """

    __tablename__ = "crosswalks"
    __table_args__ = (Index("ix_crosswalks_sets", "from_set_id", "to_set_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    from_set_id: Mapped[int] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"))
    to_set_id: Mapped[int] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"))
    from_version: Mapped[int]
    to_version: Mapped[int]
    tolerance: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))  # geometry | official (the list wins where it speaks)
    source_name: Mapped[str] = mapped_column(String(300), default="")
    slivers: Mapped[int] = mapped_column(default=0)
    unmatched: Mapped[str] = mapped_column(String(4000), default="")  # old codes overlapping nothing
    households: Mapped[int] = mapped_column(default=0)
    households_agreeing: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    links: Mapped[list[CrosswalkLink]] = relationship(
        back_populates="crosswalk", cascade="all, delete-orphan", passive_deletes=True,
        order_by="(CrosswalkLink.old_code, CrosswalkLink.new_code)",
    )


class CrosswalkLink(db.Model):
    """The part of one old unit lying in one new unit."""

    __tablename__ = "crosswalk_links"
    __table_args__ = (Index("ix_crosswalk_links_crosswalk_old", "crosswalk_id", "old_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    crosswalk_id: Mapped[int] = mapped_column(ForeignKey("crosswalks.id", ondelete="CASCADE"))
    old_code: Mapped[str] = mapped_column(String(32))
    new_code: Mapped[str] = mapped_column(String(32))
    share: Mapped[float] = mapped_column(Float)
    area_km2: Mapped[float] = mapped_column(Float, default=0.0)
    households: Mapped[int] = mapped_column(default=0)
    source: Mapped[str] = mapped_column(String(16), default="geometry")

    crosswalk: Mapped[Crosswalk] = relationship(back_populates="links")
