"""A manager's decisions from the review queue, taken through the household ledger.

* A flagged commune assignment is **confirmed** (the commune stands, the
  flag stays on record, review is no longer needed) or **moved** to another
  commune of the same boundary set. Either is a standing decision about the
  household, applied to every later revision (``tracker.households.ledger``).
* A sync conflict is settled by the conflict service
  (``tracker.households.conflicts.resolve``).

A decision on a revision that is no longer current raises ``ApiError`` 409.
The caller commits.
"""
from __future__ import annotations

from typing import Any

from tracker.accounts.auth import Principal
from tracker.boundaries.models import BoundarySet
from tracker.households import conflicts, ledger
from tracker.households.models import Conflict, HouseholdRevision


def _actor(who: Principal) -> ledger.Actor:
    return ledger.Actor(who.user_id, who.username, who.device_id)


def confirm_assignment(revision: HouseholdRevision, boundary_set: BoundarySet, who: Principal, note: str) -> None:
    ledger.decide_assignment(revision.household_id, boundary_set, ledger.CONFIRM, revision.revision, _actor(who),
                             note=note)


def move_assignment(revision: HouseholdRevision, boundary_set: BoundarySet, commune: str, who: Principal,
                    note: str) -> None:
    ledger.decide_assignment(revision.household_id, boundary_set, ledger.MOVE, revision.revision, _actor(who),
                             commune=commune, note=note)


def resolve_conflict(conflict: Conflict, choice: str, who: Principal, note: str) -> dict[str, Any]:
    return conflicts.resolve(who, conflict.id, choice, None, note, value_given=False)
