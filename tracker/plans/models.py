"""A plan is revised; a report as of a date uses the revision then in force."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.dbtypes import UTCDateTime, utcnow
from tracker.extensions import db


class Plan(db.Model):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    boundary_set_id: Mapped[int] = mapped_column(ForeignKey("boundary_sets.id"))
    # A plan carried from another map: its revisions are derived from that plan's.
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    revisions: Mapped[list[PlanRevision]] = relationship(
        back_populates="plan", order_by="PlanRevision.effective_date", cascade="all, delete-orphan"
    )


class PlanRevision(db.Model):
    __tablename__ = "plan_revisions"
    __table_args__ = (
        UniqueConstraint("plan_id", "number", name="uq_plan_revisions_plan_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    effective_date: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    source_name: Mapped[str] = mapped_column(String(300), default="")
    # A derived revision: the revision of the other map's plan it was carried from, through which crosswalk.
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("plan_revisions.id", ondelete="CASCADE"),
                                                        index=True)
    crosswalk_id: Mapped[int | None] = mapped_column(ForeignKey("crosswalks.id", ondelete="SET NULL"))
    change_seq: Mapped[int] = mapped_column(default=0, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    plan: Mapped[Plan] = relationship(back_populates="revisions")
    targets: Mapped[list[PlanTarget]] = relationship(
        back_populates="revision", cascade="all, delete-orphan", passive_deletes=True
    )


class PlanTarget(db.Model):
    __tablename__ = "plan_targets"
    __table_args__ = (
        UniqueConstraint("revision_id", "commune_code", name="uq_plan_targets_revision_commune"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("plan_revisions.id", ondelete="CASCADE"))
    commune_code: Mapped[str] = mapped_column(String(32), index=True)
    new_build: Mapped[int] = mapped_column(default=0)
    repair: Mapped[int] = mapped_column(default=0)
    budget_vnd: Mapped[int] = mapped_column(BigInteger, default=0)

    revision: Mapped[PlanRevision] = relationship(back_populates="targets")


class ProgrammeResult(db.Model):
    """A finished programme's result as the province reported it (houses and support), kept as history.

    Earlier programmes were not tracked household by household here, so
    their figures are the reported totals, shown beside the current plan
    and never mixed into its counts.
    """

    __tablename__ = "programme_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    first_year: Mapped[int]
    last_year: Mapped[int]
    houses: Mapped[int]
    support_vnd: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
