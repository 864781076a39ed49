"""Households, their revisions, assignments, conflicts and photos.

Every accepted push appends a ``HouseholdRevision``; the previous one gets
``superseded_at``. The state the server knew at instant T is therefore the
set of revisions with ``received_at <= T < superseded_at`` (or not yet
superseded), which is what makes ``known_at`` reports reproducible. Only the
household ledger (``tracker.households.ledger``) writes these tables; it
explains why receipt times follow commit order.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Float, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sync.vocabulary import FUNDING_SOURCES
from tracker.dbtypes import UTCDateTime, utcnow
from tracker.extensions import db


class Household(db.Model):
    __tablename__ = "households"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    revision: Mapped[int] = mapped_column(default=1)
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    revisions: Mapped[list[HouseholdRevision]] = relationship(
        back_populates="household", order_by="HouseholdRevision.revision", cascade="all, delete-orphan"
    )


class FundingColumns:
    """The money recorded per funding source, whole VND, a column each: on a revision, and summed in the tallies."""

    fund_central_budget: Mapped[int] = mapped_column(BigInteger, default=0)
    fund_local_budget: Mapped[int] = mapped_column(BigInteger, default=0)
    fund_social_fund: Mapped[int] = mapped_column(BigInteger, default=0)
    fund_enterprise: Mapped[int] = mapped_column(BigInteger, default=0)
    fund_household: Mapped[int] = mapped_column(BigInteger, default=0)
    fund_other: Mapped[int] = mapped_column(BigInteger, default=0)


# A funding source without its column, or a column without its source, fails here, at import.
if tuple(name.removeprefix("fund_") for name in FundingColumns.__annotations__) != FUNDING_SOURCES:
    raise ImportError("the funding columns do not match sync.vocabulary.FUNDING_SOURCES")


class HouseholdRevision(FundingColumns, db.Model):
    """One accepted version of a household, with the columns reports need."""

    __tablename__ = "household_revisions"
    __table_args__ = (
        UniqueConstraint("household_id", "revision", name="uq_household_revisions_household_revision"),
        Index("ix_household_revisions_known", "received_at", "superseded_at"),
        Index("ix_household_revisions_push", "household_id", "push_hash"),
        # Lists and searches of current households go by name: read in this order, a page of a search
        # matching most households stops at its fiftieth row instead of sorting all of them.
        Index("ix_household_revisions_current_by_head", "head_ascii", "household_id",
              sqlite_where=text("superseded_at IS NULL"), postgresql_where=text("superseded_at IS NULL")),
        Index("ix_household_revisions_declared_commune", "declared_commune"),  # scopes: households.scope
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
    revision: Mapped[int]
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str] = mapped_column(String(16), default="created")
    device_id: Mapped[str] = mapped_column(String(128), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    content_hash: Mapped[str] = mapped_column(String(64))
    # What the phone sent (its base revision and the hash of its record), so a
    # resend of an edit that was merged is recognised and changes nothing.
    base_revision: Mapped[int | None]
    push_hash: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    # When each merge unit of ``data`` last changed, where not at its
    # ``captured_at`` (``sync.merge``): what makes a merge's winner per field.
    field_times: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)

    household_head: Mapped[str] = mapped_column(String(200))
    head_ascii: Mapped[str] = mapped_column(String(200))
    declared_commune: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(16))
    support_type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    surveyed_on: Mapped[date | None] = mapped_column(Date)
    approved_on: Mapped[date | None] = mapped_column(Date)
    started_on: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    handed_over_on: Mapped[date | None] = mapped_column(Date)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    # What the households export shows of the record, so it reads no JSON.
    village: Mapped[str | None] = mapped_column(String(200))
    ethnicity: Mapped[str | None] = mapped_column(String(60))
    members: Mapped[int | None]
    national_id: Mapped[str | None] = mapped_column(String(32))

    household: Mapped[Household] = relationship(back_populates="revisions")
    assignments: Mapped[list[RevisionAssignment]] = relationship(
        back_populates="revision", cascade="all, delete-orphan", passive_deletes=True
    )


class RevisionAssignment(db.Model):
    """The commune a revision's GPS point falls in, under one boundary set."""

    __tablename__ = "revision_assignments"
    __table_args__ = (Index("ix_revision_assignments_set_commune", "boundary_set_id", "commune_code"),)

    revision_id: Mapped[int] = mapped_column(
        ForeignKey("household_revisions.id", ondelete="CASCADE"), primary_key=True
    )
    boundary_set_id: Mapped[int] = mapped_column(
        ForeignKey("boundary_sets.id", ondelete="CASCADE"), primary_key=True
    )
    commune_code: Mapped[str | None] = mapped_column(String(32))
    flag: Mapped[str | None] = mapped_column(String(32))
    needs_review: Mapped[bool] = mapped_column(default=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)

    revision: Mapped[HouseholdRevision] = relationship(back_populates="assignments")


class AssignmentDecision(db.Model):
    """A manager's standing decision on a household's commune under one boundary set.

    ``confirm`` keeps the commune the GPS point gave despite its flag;
    ``move`` puts the household in another commune. The ledger applies it
    after the geometry to every later revision, until a manager decides
    again; ``lat``/``lon`` are the point it was decided on, so a new point
    that lands elsewhere sends the household back to review.
    """

    __tablename__ = "assignment_decisions"
    __table_args__ = (
        UniqueConstraint("household_id", "boundary_set_id", name="uq_assignment_decisions_household_set"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
    boundary_set_id: Mapped[int] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(16))
    commune_code: Mapped[str | None] = mapped_column(String(32))
    previous_commune: Mapped[str | None] = mapped_column(String(32))
    revision: Mapped[int]
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by_name: Mapped[str] = mapped_column(String(100), default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(String(2000), default="")


class Conflict(db.Model):
    """The same field changed differently on two sides; the loser is kept here."""

    __tablename__ = "conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int]
    field: Mapped[str] = mapped_column(String(100))
    base_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    server_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    client_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    kept: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[str] = mapped_column(String(128), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[Any] = mapped_column(JSON, nullable=True)


class Photo(db.Model):
    """A stored image, addressed by the SHA-256 of its bytes."""

    __tablename__ = "photos"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int]
    height: Mapped[int]
    exif_lat: Mapped[float | None] = mapped_column(Float)
    exif_lon: Mapped[float | None] = mapped_column(Float)
    exif_taken_at: Mapped[str | None] = mapped_column(String(40))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PhotoHolder(db.Model):
    """A user who uploaded a photo's bytes after someone else had: they proved they hold it, so they may know of it."""

    __tablename__ = "photo_holders"

    sha256: Mapped[str] = mapped_column(ForeignKey("photos.sha256", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class SyncBatch(db.Model):
    """A push already answered: a resend of the same batch gets the same answer.

    A batch id belongs to its sender, the user and the device together: two
    accounts on one phone never collide.
    """

    __tablename__ = "sync_batches"
    __table_args__ = (UniqueConstraint("user_id", "device_id", "batch_id", name="uq_sync_batches_user_device_batch"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(String(128))
    batch_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncCounter(db.Model):
    """The server's change sequence; one row, bumped under a row lock."""

    __tablename__ = "sync_counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
