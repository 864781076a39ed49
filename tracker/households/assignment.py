"""Assigning household revisions to communes under every boundary set."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import delete, select

from tracker.boundaries.models import BoundarySet
from tracker.boundaries.service import boundary_sets, commune_index
from tracker.extensions import db
from tracker.geo.assign import FLAG_AMBIGUOUS, FLAG_OUTSIDE, FLAG_SWAPPED, Assignment
from tracker.households.models import HouseholdRevision, RevisionAssignment

REVIEW_FLAGS = {FLAG_AMBIGUOUS, FLAG_OUTSIDE, FLAG_SWAPPED}


def assign_points(
    boundary_set: BoundarySet,
    lats: Sequence[float],
    lons: Sequence[float],
    accuracies: Sequence[float],
    declared: Sequence[str | None],
) -> list[Assignment]:
    """Vectorised assignment of many points under one set."""
    index = commune_index(boundary_set)
    batch = index.assign_many(
        np.asarray(lats, dtype=float), np.asarray(lons, dtype=float),
        np.asarray(accuracies, dtype=float), list(declared),
    )
    return [batch.row(i) for i in range(len(batch))]


def assignment_row(revision_id: int, set_id: int, result: Assignment) -> dict[str, Any]:
    details = result.to_dict()
    return {
        "revision_id": revision_id,
        "boundary_set_id": set_id,
        "commune_code": result.commune,
        "flag": result.flag,
        "needs_review": bool(REVIEW_FLAGS.intersection(result.flags)),
        "details": details,
    }


def moved_from(details: dict[str, Any] | None) -> list[str]:
    """The communes a review moved this assignment away from (older decisions kept only the last)."""
    details = details or {}
    earlier = list(details.get("moved_from") or ())
    previous = (details.get("review") or {}).get("previous_commune")
    return earlier + [previous] if previous and previous not in earlier else earlier


def assign_records(
    records: Sequence[dict[str, Any]], sets: Sequence[BoundarySet] | None = None
) -> dict[int, list[Assignment]]:
    """Each set's assignments for canonical records, keyed by set id (every set unless given)."""
    lats = [r["location"]["lat"] for r in records]
    lons = [r["location"]["lon"] for r in records]
    accs = [r["location"]["accuracy_m"] for r in records]
    declared = [r.get("declared_commune") for r in records]
    return {s.id: assign_points(s, lats, lons, accs, declared) for s in (boundary_sets() if sets is None else sets)}


def reassign_set(boundary_set: BoundarySet, chunk: int = 20_000) -> int:
    """(Re)compute every revision's assignment under one set, e.g. after an import."""
    db.session.execute(delete(RevisionAssignment).where(RevisionAssignment.boundary_set_id == boundary_set.id))
    query = select(
        HouseholdRevision.id, HouseholdRevision.lat, HouseholdRevision.lon,
        HouseholdRevision.accuracy_m, HouseholdRevision.declared_commune,
    ).order_by(HouseholdRevision.id)
    revisions = db.session.execute(query).all()
    done = 0
    for start in range(0, len(revisions), chunk):
        part = revisions[start:start + chunk]
        results = assign_points(
            boundary_set, [r.lat for r in part], [r.lon for r in part],
            [r.accuracy_m or 0.0 for r in part], [r.declared_commune for r in part],
        )
        rows = [assignment_row(r.id, boundary_set.id, a) for r, a in zip(part, results)]
        if rows:
            db.session.execute(RevisionAssignment.__table__.insert(), rows)
        done += len(rows)
    return done
