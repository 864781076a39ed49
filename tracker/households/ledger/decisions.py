"""Taking a manager's decision on a household's commune (confirm or move).

The decision is stored (one per household and boundary set, replacing the
previous one) and the household gets a new revision, ``reviewed``, with the
same record and the decision applied, so reports known before the decision
keep their figures and phones pull it. A decision is taken on the revision
the manager saw: if the household changed since, it is refused (409) rather
than applied to a revision nobody looked at.
"""
from __future__ import annotations

from sqlalchemy import select

from tracker.boundaries.models import AdminUnit, BoundarySet
from tracker.dbtypes import utcnow
from tracker.errors import ApiError
from tracker.extensions import db
from tracker.households.assignment import assign_records
from tracker.households.ledger.write import Actor, Change, Held, append, hold
from tracker.households.models import AssignmentDecision

CONFIRM, MOVE = "confirm", "move"


def decide_assignment(
    household_id: str,
    boundary_set: BoundarySet,
    action: str,
    seen_revision: int,
    actor: Actor,
    *,
    commune: str | None = None,
    note: str = "",
) -> Change:
    """Confirm the household's commune under ``boundary_set``, or move it to ``commune``.

    ``seen_revision`` is the revision the manager decided on. Raises
    ``ApiError`` 404 (no such household or assignment), 409 (the household
    changed since) or 422 (no such commune in the set). The caller commits.
    """
    current = hold([household_id]).get(household_id)
    if current is None:
        raise ApiError(404, f"No household {household_id}.")
    if current.revision != seen_revision:
        raise ApiError(
            409, f"This household changed since revision {seen_revision} (it is now at revision "
                 f"{current.revision}); look at it again before deciding.",
            code="household_changed", fields={"revision": [f"The current revision is {current.revision}."]})
    stored = current.assignments.get(boundary_set.id)
    if stored is None:
        raise ApiError(404, f"This household has no assignment under boundary set {boundary_set.name!r}.")
    if action == MOVE and not _is_commune(boundary_set, commune):
        raise ApiError(422, f"There is no commune {commune!r} in boundary set {boundary_set.name!r}.",
                       fields={"commune": ["Not a commune of this boundary set."]})
    chosen = stored["commune_code"] if action == CONFIRM else commune
    _store(current, boundary_set, action, chosen, actor, note)
    per_set = {set_id: assigned[0] for set_id, assigned in assign_records([current.data]).items()}
    change = Change(household_id, current.data, "reviewed", per_set, previous=current,
                    content_hash=current.content_hash, action=f"assignment.{action}", audit={
                        "boundary_set": boundary_set.name, "from": stored["commune_code"], "to": chosen,
                        "flags": (stored["details"] or {}).get("flags") or [], "note": note})
    append([change], actor)
    return change


def _is_commune(boundary_set: BoundarySet, code: str | None) -> bool:
    return code is not None and db.session.scalar(select(AdminUnit.id).where(
        AdminUnit.boundary_set_id == boundary_set.id, AdminUnit.level == "commune", AdminUnit.code == code
    )) is not None


def _store(current: Held, boundary_set: BoundarySet, action: str, commune: str | None, actor: Actor,
           note: str) -> None:
    decision = db.session.scalar(select(AssignmentDecision).where(
        AssignmentDecision.household_id == current.data["id"], AssignmentDecision.boundary_set_id == boundary_set.id))
    if decision is None:
        decision = AssignmentDecision(household_id=current.data["id"], boundary_set_id=boundary_set.id)
        db.session.add(decision)
    location = current.data.get("location") or {}
    decision.action, decision.commune_code, decision.revision = action, commune, current.revision
    decision.previous_commune = current.assignments[boundary_set.id]["commune_code"]
    decision.lat, decision.lon = location.get("lat"), location.get("lon")
    decision.decided_by, decision.decided_by_name, decision.decided_at = actor.user_id, actor.username, utcnow()
    decision.note = note
    db.session.flush()
