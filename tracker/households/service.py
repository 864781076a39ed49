"""Storing new household records in bulk (imports, demo), and the default boundary set."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from sync.records import content_hash
from tracker.boundaries.models import BoundarySet
from tracker.boundaries.service import boundary_sets, get_set
from tracker.extensions import db
from tracker.geo.assign import FLAG_SWAPPED, Assignment
from tracker.households import ledger
from tracker.households.assignment import assign_records
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
    plan (not counting plans carried from another map), else the newest set.
    """
    name = current_app.config.get("DEFAULT_BOUNDARY_SET")
    sets = boundary_sets() if sets is None else sets
    if name:
        return next((s for s in sets if s.name == name), None)
    plan = db.session.scalar(
        select(Plan).where(Plan.carried_from_id.is_(None)).order_by(Plan.created_at.desc(), Plan.id.desc())
    )
    if plan is not None:
        return db.session.get(BoundarySet, plan.boundary_set_id)
    return max(sets, key=lambda s: (s.created_at, s.id), default=None)


def set_in_force(day: date, sets: list[BoundarySet] | None = None) -> BoundarySet | None:
    """The map in force on ``day``: of the sets given a date they came into force, the latest by then.

    Without dated sets (or with ``DEFAULT_BOUNDARY_SET`` configured), and on a
    day before every dated set, the undated sets' :func:`default_set`.
    """
    sets = boundary_sets() if sets is None else sets
    dated = [s for s in sets if s.in_force_from is not None]
    if current_app.config.get("DEFAULT_BOUNDARY_SET") or not dated:
        return default_set(sets)
    started = [s for s in dated if s.in_force_from <= day]  # type: ignore[operator]
    if started:
        return max(started, key=lambda s: (s.in_force_from, s.id))
    undated = [s for s in sets if s.in_force_from is None]
    return default_set(undated) if undated else min(dated, key=lambda s: (s.in_force_from, s.id))


def location_errors(record: dict[str, Any], results: list[Assignment]) -> dict[str, list[str]]:
    """A latitude past ±90 is accepted only when it is a recognised lat/lon swap; a named map must exist."""
    errors: dict[str, list[str]] = {}
    named = record.get("declared_set")
    if named is not None and get_set(named) is None:
        errors["declared_set"] = [f"No boundary set named {named!r}: name the map the declared commune belongs to."]
    if abs(record["location"]["lat"]) > 90 and not any(FLAG_SWAPPED in r.flags for r in results):
        errors["location.lat"] = ["Latitude must be between -90 and 90."]
    return errors


def create_households(
    records: Sequence[dict[str, Any]],
    *,
    device_id: str = "",
    user_id: int | None = None,
    received_at: datetime | Sequence[datetime] | None = None,
) -> list[StoreResult]:
    """Insert new households (canonical records) in bulk through the ledger; existing ids are skipped.

    Used by bulk loaders; the caller commits. The households are held (locked)
    first, so a push of the same id at the same moment waits or is waited for.
    A record whose id already exists comes back ``unchanged`` when identical,
    else ``rejected`` with the reason (changing a record is the sync
    protocol's job). ``received_at`` (one, or one per record) is for a
    replayed history only (the demo, benchmarks).
    """
    if isinstance(received_at, datetime):
        received_at = [received_at] * len(records)
    held = ledger.hold([r["id"] for r in records])
    by_set = assign_records(records)
    primary = default_set()
    results: list[StoreResult] = []
    changes: list[ledger.Change] = []
    for i, record in enumerate(records):
        per_set = {set_id: assigned[i] for set_id, assigned in by_set.items()}
        primary_result = per_set.get(primary.id) if primary else None
        outcome = StoreResult(record["id"], "created", 1, primary_result.commune if primary_result else None,
                              primary_result.to_dict() if primary_result else None)
        current = held.get(record["id"])
        if current is not None:
            same = current.content_hash == content_hash(record)
            outcome.result, outcome.revision = ("unchanged", current.revision) if same else ("rejected", None)
            outcome.errors = {} if same else {"id": ["A different record with this id already exists."]}
        elif errors := location_errors(record, list(per_set.values())):
            outcome.result, outcome.revision, outcome.errors = "rejected", None, errors
        else:
            changes.append(ledger.Change(record["id"], record, "created", per_set,
                                         received_at=received_at[i] if received_at else None))
        results.append(outcome)
    ledger.append(changes, ledger.Actor(user_id, "", device_id))
    lost = {change.household_id for change in changes if not change.written}
    for outcome in results:
        if outcome.id in lost:  # inserted meanwhile by a writer that did not hold the lock
            outcome.result, outcome.revision = "rejected", None
            outcome.errors = {"id": ["This id was created meanwhile; import it again."]}
    return results
