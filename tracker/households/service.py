"""Storing household records: new revisions with their commune assignments."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from sync.records import content_hash, revision_columns
from tracker.boundaries.models import BoundarySet
from tracker.boundaries.service import boundary_sets
from tracker.dbtypes import utcnow
from tracker.extensions import db
from tracker.geo.assign import FLAG_SWAPPED, Assignment
from tracker.households import sequence
from tracker.households.assignment import assign_records, assignment_row
from tracker.households.models import Household, HouseholdRevision, RevisionAssignment
from tracker.plans.models import Plan


@dataclass
class StoreResult:
    id: str
    result: str
    revision: int | None = None
    commune: str | None = None
    assignment: dict[str, Any] | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


def default_set(sets: list[BoundarySet] | None = None) -> BoundarySet | None:
    """The set answers and reports use unless told otherwise.

    ``DEFAULT_BOUNDARY_SET`` when configured, else the set of the most recent
    plan, else the newest set.
    """
    name = current_app.config.get("DEFAULT_BOUNDARY_SET")
    sets = boundary_sets() if sets is None else sets
    if name:
        return next((s for s in sets if s.name == name), None)
    plan = db.session.scalar(select(Plan).order_by(Plan.created_at.desc(), Plan.id.desc()))
    if plan is not None:
        return db.session.get(BoundarySet, plan.boundary_set_id)
    return max(sets, key=lambda s: (s.created_at, s.id), default=None)


def location_errors(record: dict[str, Any], results: list[Assignment]) -> dict[str, list[str]]:
    """A latitude past ±90 is accepted only when it is a recognised lat/lon swap."""
    if abs(record["location"]["lat"]) <= 90:
        return {}
    if any(FLAG_SWAPPED in r.flags for r in results):
        return {}
    return {"location.lat": ["Latitude must be between -90 and 90."]}


def create_households(
    records: Sequence[dict[str, Any]],
    *,
    device_id: str = "",
    user_id: int | None = None,
    received_at: datetime | Sequence[datetime] | None = None,
) -> list[StoreResult]:
    """Insert new households (canonical records) in bulk; existing ids are skipped.

    Used by bulk loaders; the caller commits. Records whose id already exists
    come back as ``unchanged`` when identical, else ``conflict`` is left to
    the sync protocol (they are reported ``rejected`` here with the reason).
    """
    if received_at is None or isinstance(received_at, datetime):
        received_at = [received_at or utcnow()] * len(records)
    existing = _existing_hashes([r["id"] for r in records])
    by_set = assign_records(records)
    primary = default_set()
    results: list[StoreResult] = []
    new_rows: list[tuple[dict[str, Any], dict[int, Assignment], datetime]] = []
    for i, record in enumerate(records):
        per_set = {set_id: assigned[i] for set_id, assigned in by_set.items()}
        primary_result = per_set.get(primary.id) if primary else None
        outcome = StoreResult(record["id"], "created", 1, primary_result.commune if primary_result else None,
                              primary_result.to_dict() if primary_result else None)
        if record["id"] in existing:
            same = existing[record["id"]] == content_hash(record)
            outcome.result = "unchanged" if same else "rejected"
            outcome.errors = {} if same else {"id": ["A different record with this id already exists."]}
        elif errors := location_errors(record, list(per_set.values())):
            outcome.result, outcome.revision, outcome.errors = "rejected", None, errors
        else:
            new_rows.append((record, per_set, received_at[i]))
        results.append(outcome)
    _insert_new(new_rows, device_id, user_id)
    return results


def _existing_hashes(ids: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = db.session.execute(
            select(HouseholdRevision.household_id, HouseholdRevision.content_hash).where(
                HouseholdRevision.household_id.in_(chunk), HouseholdRevision.superseded_at.is_(None)
            )
        )
        found.update({row.household_id: row.content_hash for row in rows})
    return found


def _insert_new(
    rows: list[tuple[dict[str, Any], dict[int, Assignment], datetime]], device_id: str, user_id: int | None
) -> None:
    if not rows:
        return
    first_seq = sequence.allocate(len(rows))
    db.session.execute(
        Household.__table__.insert(),
        [
            {"id": rec["id"], "revision": 1, "change_seq": first_seq + i, "created_at": at, "updated_at": at}
            for i, (rec, _, at) in enumerate(rows)
        ],
    )
    revision_rows = [
        {
            "household_id": rec["id"], "revision": 1, "received_at": at, "result": "created",
            "device_id": device_id, "user_id": user_id, "content_hash": content_hash(rec), "data": rec,
            **revision_columns(rec),
        }
        for rec, _, at in rows
    ]
    ids = db.session.scalars(
        HouseholdRevision.__table__.insert().returning(HouseholdRevision.__table__.c.id, sort_by_parameter_order=True),
        revision_rows,
    ).all()
    assignment_rows = [
        assignment_row(revision_id, set_id, result)
        for revision_id, (_, per_set, _) in zip(ids, rows)
        for set_id, result in per_set.items()
    ]
    if assignment_rows:
        db.session.execute(RevisionAssignment.__table__.insert(), assignment_rows)

