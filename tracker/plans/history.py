"""Earlier programmes' reported results: history shown beside the plans, never counted in them."""
from __future__ import annotations

from sqlalchemy import select

from tracker.extensions import db
from tracker.plans.models import ProgrammeResult


def record_result(name: str, first_year: int, last_year: int, houses: int, support_vnd: int,
                  source: str = "") -> ProgrammeResult:
    """Store (or correct) a programme's reported result; the same figures again change nothing."""
    found = db.session.scalar(select(ProgrammeResult).where(ProgrammeResult.name == name))
    if found is None:
        found = ProgrammeResult(name=name)
        db.session.add(found)
    found.first_year, found.last_year, found.houses = first_year, last_year, houses
    found.support_vnd, found.source = support_vnd, source
    db.session.flush()
    return found


def programme_results() -> list[ProgrammeResult]:
    """Every reported result, the most recent programme first."""
    return list(db.session.scalars(select(ProgrammeResult).order_by(ProgrammeResult.last_year.desc(),
                                                                     ProgrammeResult.name)))
