"""Assigning household revisions to communes under every boundary set."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tracker.boundaries.models import BoundarySet
from tracker.boundaries.service import boundary_sets, commune_index
from tracker.crosswalks.declared import judged, read_declared
from tracker.geo.assign import FLAG_AMBIGUOUS, FLAG_MISMATCH, FLAG_OUTSIDE, FLAG_SWAPPED, Assignment

# What a manager must look at: a point near a boundary, outside every commune, swapped, or in another
# commune than the one the officer declared; and a fix too coarse to tell the commune.
REVIEW_FLAGS = {FLAG_AMBIGUOUS, FLAG_OUTSIDE, FLAG_SWAPPED, FLAG_MISMATCH}
LOW_ACCURACY_M = 100.0


def assign_points(
    boundary_set: BoundarySet,
    lats: Sequence[float],
    lons: Sequence[float],
    accuracies: Sequence[float],
    declared: Sequence[str | None],
) -> list[Assignment]:
    """Vectorised assignment of many points under one set.

    A declared code of another map is read through the crosswalk
    (:mod:`tracker.crosswalks.declared`), so it is judged against the map it belongs to.
    """
    index = commune_index(boundary_set)
    own, table = read_declared(boundary_set, declared)
    batch = index.assign_many(
        np.asarray(lats, dtype=float), np.asarray(lons, dtype=float),
        np.asarray(accuracies, dtype=float), own,
    )
    return judged([batch.row(i) for i in range(len(batch))], declared, table)


def assignment_row(
    revision_id: int, set_id: int, result: Assignment, accuracy_m: float | None = None
) -> dict[str, Any]:
    """The assignment row of one revision under one set; a fix coarser than ``LOW_ACCURACY_M`` waits for review."""
    details = result.to_dict()
    coarse = accuracy_m is not None and accuracy_m > LOW_ACCURACY_M
    if coarse:
        details["low_accuracy_m"] = accuracy_m
    return {
        "revision_id": revision_id,
        "boundary_set_id": set_id,
        "commune_code": result.commune,
        "flag": result.flag,
        "needs_review": coarse or bool(REVIEW_FLAGS.intersection(result.flags)),
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
