"""Versioned boundary sets and their administrative units."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.dbtypes import UTCDateTime, utcnow
from tracker.extensions import db


class BoundarySet(db.Model):
    __tablename__ = "boundary_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    synthetic: Mapped[bool] = mapped_column(default=False)
    checksum: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[int] = mapped_column(default=1)
    change_seq: Mapped[int] = mapped_column(default=0, index=True)
    # The day this map came into force (2025-07-01 for the merged communes); None: from the start.
    in_force_from: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    units: Mapped[list[AdminUnit]] = relationship(
        back_populates="boundary_set", cascade="all, delete-orphan", passive_deletes=True
    )


class AdminUnit(db.Model):
    """A province, district or commune of one boundary set."""

    __tablename__ = "admin_units"
    __table_args__ = (
        UniqueConstraint("boundary_set_id", "level", "code", name="uq_admin_units_set_level_code"),
        Index("ix_admin_units_set_level", "boundary_set_id", "level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    boundary_set_id: Mapped[int] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    name_ascii: Mapped[str] = mapped_column(String(200), default="")
    unit_type: Mapped[str] = mapped_column(String(32), default="")
    parent_code: Mapped[str | None] = mapped_column(String(32))
    geometry_wkb: Mapped[bytes] = mapped_column(LargeBinary)
    area_km2: Mapped[float] = mapped_column(default=0.0)

    boundary_set: Mapped[BoundarySet] = relationship(back_populates="units")


class UnitOutline(db.Model):
    """A commune's outline simplified for one web-map zoom, as GeoJSON text.

    Prepared when the set is imported (see :mod:`tracker.boundaries.outlines`)
    so that no map answer simplifies outlines itself.
    """

    __tablename__ = "unit_outlines"

    boundary_set_id: Mapped[int] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"), primary_key=True)
    zoom: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    geometry: Mapped[str] = mapped_column(Text)


class SvgBaseMap(db.Model):
    """A set's units of one level projected and simplified for the SVG web map, stored once (JSON text).

    Simplifying 11,163 national outlines as a coverage takes seconds; stored,
    a worker just started reads it instead (see :mod:`tracker.web.maps`).
    ``geometry_version`` is the set's version and checksum it was drawn from.
    """

    __tablename__ = "svg_base_maps"

    boundary_set_id: Mapped[int] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"), primary_key=True)
    level: Mapped[str] = mapped_column(String(16), primary_key=True)
    geometry_version: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
