"""Who may see which household: SQL filters and checks by commune scope.

A commune officer sees a household when its declared commune or the commune
its GPS point was assigned to (under any boundary set) is one of theirs;
viewers see their districts' communes; managers and admins see everything
(``scope is None``).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select, union
from sqlalchemy.orm import aliased

from tracker.accounts.auth import Principal
from tracker.boundaries.models import BoundarySet
from tracker.errors import ApiError
from tracker.extensions import db
from tracker.households.models import HouseholdRevision, RevisionAssignment


def revision_in_scope(revision: Any, scope: frozenset[str]) -> Any:
    """SQL: this revision (an aliased ``HouseholdRevision``) lies in ``scope``.

    Its id is among the revisions that the scope's communes find through
    two indexes: assigned there (under any set) or declared there. Asked
    row by row instead (declared, or an assignment exists), a commune
    officer's list or first pull tested every household of the country.
    """
    return revision.id.in_(scope_revisions(scope))


def scope_revisions(scope: frozenset[str]) -> Any:
    """SQL: the ids of the revisions assigned to or declared in ``scope``'s communes."""
    assignment, declared = aliased(RevisionAssignment), aliased(HouseholdRevision)
    codes = sorted(scope)
    return union(
        # every set named, so that the index by set and commune finds the communes under each
        select(assignment.revision_id).where(assignment.boundary_set_id.in_(select(BoundarySet.id)),
                                             assignment.commune_code.in_(codes)),
        select(declared.id).where(declared.declared_commune.in_(codes)),
    )


def ever_in_scope(household_id: Any, scope: frozenset[str]) -> Any:
    """SQL: some revision of this household (the current one included) lay in ``scope`` (for removals).

    The households are found from the scope's revisions, not asked one by one:
    a phone's pull after a day of the country's changes asked each of them.
    """
    past = aliased(HouseholdRevision)
    return household_id.in_(select(past.household_id).where(past.id.in_(scope_revisions(scope))))


def revision_codes(revision_id: int, declared: str | None) -> list[str | None]:
    codes = db.session.scalars(
        select(RevisionAssignment.commune_code).where(RevisionAssignment.revision_id == revision_id)
    ).all()
    return [declared, *codes]


def check_visible(caller: Principal, revision_id: int, declared: str | None) -> None:
    """403 unless the caller may see this revision's household."""
    scope = caller.commune_scope()
    if scope is None:
        return
    if not any(code in scope for code in revision_codes(revision_id, declared) if code):
        raise ApiError(403, "This household is outside your communes.")


def mask_national_id(record: dict[str, Any], caller: Principal) -> dict[str, Any]:
    """Viewers see only the last four digits of the national ID (personal data)."""
    if caller.role != "viewer" or not record.get("national_id"):
        return record
    return {**record, "national_id": masked(record["national_id"])}


def masked(national_id: Any) -> Any:
    """A national ID as a viewer may see it: its last four digits."""
    return "********" + national_id[-4:] if isinstance(national_id, str) and national_id else national_id


CONFLICT_VALUES = ("base_value", "server_value", "client_value")


def mask_conflict(conflict: dict[str, Any], caller: Principal) -> dict[str, Any]:
    """A conflict over ``national_id`` shows a viewer each of its values masked, as the record does."""
    if caller.role != "viewer" or conflict.get("field") != "national_id":
        return conflict
    return {**conflict, **{key: masked(conflict.get(key)) for key in CONFLICT_VALUES if key in conflict}}
