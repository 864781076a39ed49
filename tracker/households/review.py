"""A manager's review decisions through the API: confirm or move a commune assignment.

The view parses (schemas) and commits; this checks the boundary set, the
household and the caller's communes, and has the ledger take the decision
(``ledger.decide_assignment``), which lasts over later revisions.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tracker.accounts.auth import Principal
from tracker.boundaries.service import get_set
from tracker.errors import ApiError
from tracker.extensions import db
from tracker.households import ledger, read
from tracker.households.models import HouseholdRevision
from tracker.households.scope import check_visible


def decide(caller: Principal, household_id: str, set_name: str, action: str, revision: int, note: str,
           commune: str | None = None) -> dict[str, Any]:
    """Take the decision on ``revision`` of the household; returns the household as GET shows it."""
    boundary_set = get_set(set_name)
    if boundary_set is None:
        raise ApiError(404, f"No boundary set named {set_name!r}.")
    current = db.session.scalar(select(HouseholdRevision).where(
        HouseholdRevision.household_id == household_id, HouseholdRevision.superseded_at.is_(None)))
    if current is None:
        raise ApiError(404, f"No household {household_id}.")
    check_visible(caller, current.id, current.declared_commune)
    scope = caller.commune_scope()
    if commune is not None and scope is not None and commune not in scope:
        raise ApiError(403, "You may not move a household to a commune outside yours.",
                       fields={"commune": ["Outside your communes."]})
    ledger.decide_assignment(household_id, boundary_set, action, revision,
                             ledger.Actor(caller.user_id, caller.username, caller.device_id),
                             commune=commune, note=note)
    db.session.flush()
    return read.household(caller, household_id)
