"""A manager's decisions from the review queue; each one is written to the audit log.

* A flagged commune assignment is **confirmed** (the commune stands, the
  flag stays on record, review is no longer needed) or **moved** to another
  commune of the same boundary set (``method`` becomes ``manual``).
  The household's change sequence moves on, so phones pull the decision.
* A sync conflict is settled by the conflict service
  (``tracker.households.conflicts.resolve``), which appends a revision when
  the kept value differs and writes its own audit event.

The caller commits.
"""
from __future__ import annotations

from typing import Any

from tracker.accounts.auth import Principal
from tracker.audit import service as audit
from tracker.dbtypes import utcnow
from tracker.extensions import db
from tracker.households import locks, sequence
from tracker.households.assignment import moved_from
from tracker.households.models import Conflict, Household, HouseholdRevision, RevisionAssignment


def _review_note(action: str, who: Principal, note: str, **extra: Any) -> dict[str, Any]:
    return {"action": action, "by": who.username, "at": utcnow().isoformat(), "note": note, **extra}


def _touch(household_id: str) -> None:
    household = db.session.get(Household, household_id)
    if household is not None:
        household.change_seq = sequence.allocate(1)
        household.updated_at = utcnow()


def confirm_assignment(assignment: RevisionAssignment, revision: HouseholdRevision, who: Principal, note: str) -> None:
    locks.lock_households([revision.household_id])
    details = dict(assignment.details or {})
    details["review"] = _review_note("confirm", who, note)
    assignment.details = details
    assignment.needs_review = False
    _touch(revision.household_id)
    audit.record("assignment.confirm", actor_id=who.user_id, actor_name=who.username, device_id=who.device_id,
                 object_type="household", object_id=revision.household_id,
                 details={"revision": revision.revision, "boundary_set_id": assignment.boundary_set_id,
                          "commune": assignment.commune_code, "flags": details.get("flags") or [], "note": note})


def move_assignment(assignment: RevisionAssignment, revision: HouseholdRevision, commune: str, who: Principal,
                    note: str) -> None:
    locks.lock_households([revision.household_id])
    before = assignment.commune_code
    details = dict(assignment.details or {})
    details["review"] = _review_note("move", who, note, previous_commune=before, previous_method=details.get("method"))
    details["commune"] = commune
    details["method"] = "manual"
    details["moved_from"] = sorted({*moved_from(details), before} - {None, commune})
    assignment.details = details
    assignment.commune_code = commune
    assignment.needs_review = False
    _touch(revision.household_id)
    audit.record("assignment.move", actor_id=who.user_id, actor_name=who.username, device_id=who.device_id,
                 object_type="household", object_id=revision.household_id,
                 details={"revision": revision.revision, "boundary_set_id": assignment.boundary_set_id,
                          "from": before, "to": commune, "flags": details.get("flags") or [], "note": note})


def resolve_conflict(conflict: Conflict, choice: str, who: Principal, note: str) -> dict[str, Any]:
    from tracker.households import conflicts

    return conflicts.resolve(who, conflict.id, choice, None, note, value_given=False)
