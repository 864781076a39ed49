"""Standing manager decisions, and how one is applied after the geometry.

A decision names the commune a household belongs to under one boundary set.
Applied to an assignment row (the geometry's answer for a new revision) it
sets the commune, records the decision, and keeps the GPS point's own answer
beside it when they differ. Review is needed again only when the point has
moved since the decision *and* now lands in another commune than the one
decided: the officer brought a new fact, so a manager looks again with both
shown. A status change or any other edit leaves the decision standing.
"""
from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select

from tracker.extensions import db
from tracker.households.models import AssignmentDecision

CHUNK = 500


def standing_decisions(household_ids: Collection[str]) -> dict[tuple[str, int], AssignmentDecision]:
    """The decisions in force, by (household id, boundary set id)."""
    ids = list(household_ids)
    found: dict[tuple[str, int], AssignmentDecision] = {}
    for start in range(0, len(ids), CHUNK):
        for decision in db.session.scalars(
            select(AssignmentDecision).where(AssignmentDecision.household_id.in_(ids[start:start + CHUNK]))
        ):
            found[(decision.household_id, decision.boundary_set_id)] = decision
    return found


def decision_json(decision: AssignmentDecision) -> dict[str, Any]:
    """A decision as answers and assignment details show it."""
    return {
        "action": decision.action, "commune": decision.commune_code, "previous_commune": decision.previous_commune,
        "revision": decision.revision, "by": decision.decided_by_name, "at": decision.decided_at.isoformat(),
        "note": decision.note,
    }


def apply_decision(row: dict[str, Any], decision: AssignmentDecision, record: dict[str, Any]) -> None:
    """Put ``decision`` over the geometry's assignment ``row`` (an ``assignment_row`` dict), in place."""
    details = dict(row["details"] or {})
    by_gps = row["commune_code"]
    location = record.get("location") or {}
    point_moved = (location.get("lat"), location.get("lon")) != (decision.lat, decision.lon)
    details["decision"] = decision_json(decision)
    if by_gps != decision.commune_code:
        details["gps_commune"] = by_gps
        details["method"] = "manual"
    details["commune"] = decision.commune_code
    contradicted = by_gps != decision.commune_code and point_moved
    if contradicted:
        details["contradicts_decision"] = True
    row.update(commune_code=decision.commune_code, needs_review=contradicted, details=details)
