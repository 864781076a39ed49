"""``GET /api/v1/households/<id>``: the record as the server holds it, with history."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tracker.accounts.auth import Principal
from tracker.accounts.models import User
from tracker.boundaries.models import BoundarySet
from tracker.errors import ApiError
from tracker.extensions import db
from tracker.households import ledger
from tracker.households.models import AssignmentDecision, Conflict, HouseholdRevision
from tracker.households.pull import assignments_of
from tracker.households.scope import check_visible, mask_national_id
from tracker.households.service import default_set
from tracker.openrosa.health import waiting_files
from tracker.photos.service import known_among


def _changed_fields(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    if before is None:
        return []
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def household(caller: Principal, household_id: str) -> dict[str, Any]:
    revisions = db.session.execute(
        select(HouseholdRevision, User.username)
        .outerjoin(User, User.id == HouseholdRevision.user_id)
        .where(HouseholdRevision.household_id == household_id)
        .order_by(HouseholdRevision.revision)
    ).all()
    if not revisions:
        raise ApiError(404, f"No household {household_id}.")
    current = revisions[-1][0]
    check_visible(caller, current.id, current.declared_commune)
    per_set = assignments_of([current.id]).get(current.id, {})
    primary = default_set()
    assignment = per_set.get(primary.name) if primary else None
    history, previous = [], None
    for revision, username in revisions:
        history.append({
            "revision": revision.revision, "result": revision.result,
            "received_at": revision.received_at.isoformat(),
            "superseded_at": revision.superseded_at.isoformat() if revision.superseded_at else None,
            "device_id": revision.device_id, "user": username, "base_revision": revision.base_revision,
            "content_hash": revision.content_hash, "status": revision.status,
            "changed_fields": _changed_fields(previous, revision.data),
        })
        previous = revision.data
    hashes = [p["sha256"] for p in current.data.get("photos") or []]
    held = known_among(caller, hashes)
    decisions = [
        {"boundary_set": name, **ledger.decision_json(decision)}
        for decision, name in db.session.execute(
            select(AssignmentDecision, BoundarySet.name)
            .join(BoundarySet, BoundarySet.id == AssignmentDecision.boundary_set_id)
            .where(AssignmentDecision.household_id == household_id).order_by(BoundarySet.name))
    ]
    open_conflicts = db.session.scalar(
        select(func.count(Conflict.id)).where(Conflict.household_id == household_id, Conflict.resolved_at.is_(None))
    )
    return {
        "id": household_id,
        "revision": current.revision,
        "record": mask_national_id(current.data, caller),
        "commune": assignment["commune"] if assignment else None,
        "assignment": assignment,
        "assignments": per_set,
        "received_at": current.received_at.isoformat(),
        "history": history,
        "decisions": decisions,
        "open_conflicts": open_conflicts,
        "missing_photos": [h for h in hashes if h not in held],
        "waiting_for_files": waiting_files(household_id),
    }
