"""``GET /api/v1/sync/pull`` and ``POST /api/v1/sync/receipt``.

The cursor is ``"<seq>-<ref>"``: ``seq`` is the server's change sequence
(``sequence.py``) up to which the phone holds every household in its scope,
and ``ref`` a short fingerprint of the reference data (communes and plan
targets in scope) the phone last received. A pull answers the households
changed after ``seq`` in ascending order, ``limit`` at a time; records that
left the caller's scope come back as ``household_removed``. Whenever the
reference data differs from the fingerprint (always on a fresh pull), the
first page also carries the complete reference data, to replace the phone's.
A cursor ahead of the server's sequence (a server restored from a backup)
starts the phone over from nothing.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, case, func, select, true
from sqlalchemy.orm import aliased

from tracker.accounts.auth import Principal
from tracker.boundaries.models import AdminUnit, BoundarySet
from tracker.extensions import db
from tracker.households import sequence
from tracker.households.models import Household, HouseholdRevision, RevisionAssignment
from tracker.households.scope import ever_in_scope, mask_national_id, revision_in_scope
from tracker.households.service import default_set, set_in_force
from tracker.photos.service import known_among
from tracker.plans.models import Plan, PlanRevision, PlanTarget


def parse_cursor(cursor: str) -> tuple[int, str]:
    seq, _, ref = cursor.partition("-")
    return int(seq or 0), ref


def pull(caller: Principal, cursor: str, limit: int) -> dict[str, Any]:
    after, ref = parse_cursor(cursor)
    snapshot = sequence.current()  # read first: every change up to it has committed
    if after > snapshot:  # a cursor this server never gave (restored from a backup?): start over
        after, ref = 0, ""
    scope = caller.commune_scope()
    reference = reference_data(scope)
    fingerprint = _fingerprint(reference)
    changes: list[dict[str, Any]] = []
    if after == 0 or ref != fingerprint:
        changes.extend({"type": kind, "seq": snapshot, "id": key, "data": data} for kind, key, data in reference)
    rows = _household_rows(scope, after, snapshot, limit + 1)
    has_more = len(rows) > limit
    rows = rows[:limit]
    changes.extend(_household_changes(caller, rows))
    last = rows[-1].change_seq if has_more else max(snapshot, after)
    return {
        "changes": changes,
        "next_cursor": f"{last}-{fingerprint}",
        "has_more": has_more,
        "reference_complete": after == 0 or ref != fingerprint,
    }


def _household_rows(scope: frozenset[str] | None, after: int, snapshot: int, limit: int) -> Sequence[Any]:
    current = aliased(HouseholdRevision)
    query = (
        select(Household.id, Household.change_seq, current.id.label("revision_pk"), current.revision,
               current.data)
        .join(current, and_(current.household_id == Household.id, current.superseded_at.is_(None)))
        .where(Household.change_seq > after, Household.change_seq <= snapshot)
    )
    if scope is None:
        query = query.add_columns(true().label("visible"))
    else:
        now_visible = revision_in_scope(current, scope)
        query = query.add_columns(case((now_visible, True), else_=False).label("visible"))
        # A fresh phone holds nothing, so it needs no removals; a household now in scope was in it.
        query = query.where(now_visible if after == 0 else ever_in_scope(Household.id, scope))
    return db.session.execute(query.order_by(Household.change_seq).limit(limit)).all()


def _household_changes(caller: Principal, rows: Sequence[Any]) -> list[dict[str, Any]]:
    visible = [row for row in rows if row.visible]
    assignments = assignments_of([row.revision_pk for row in visible])
    primary = default_set()
    out = []
    for row in rows:
        if not row.visible:
            out.append({"type": "household_removed", "seq": row.change_seq, "id": row.id, "data": None})
            continue
        per_set = assignments.get(row.revision_pk, {})
        assignment = per_set.get(primary.name) if primary else None
        out.append({"type": "household", "seq": row.change_seq, "id": row.id, "data": {
            "record": mask_national_id(row.data, caller), "revision": row.revision,
            "commune": assignment["commune"] if assignment else None,
            "assignment": assignment, "assignments": per_set,
        }})
    return out


def assignments_of(revision_pks: Sequence[int]) -> dict[int, dict[str, dict[str, Any]]]:
    """Stored assignments by revision, then by boundary set name."""
    out: dict[int, dict[str, dict[str, Any]]] = {}
    if not revision_pks:
        return out
    rows = db.session.execute(
        select(RevisionAssignment.revision_id, BoundarySet.name, RevisionAssignment.needs_review,
               RevisionAssignment.details)
        .join(BoundarySet, BoundarySet.id == RevisionAssignment.boundary_set_id)
        .where(RevisionAssignment.revision_id.in_(list(revision_pks)))
    )
    for row in rows:
        out.setdefault(row.revision_id, {})[row.name] = {
            "boundary_set": row.name, **row.details, "needs_review": row.needs_review,
        }
    return out


# ---- reference data -----------------------------------------------------------

def reference_data(scope: frozenset[str] | None) -> list[tuple[str, str, dict[str, Any]]]:
    """Communes (every boundary set, ``in_force`` on the map in force today) and current plan targets in scope."""
    from tracker.progress.service import today_vn

    in_force = set_in_force(today_vn())
    units = select(AdminUnit.code, AdminUnit.name, AdminUnit.name_ascii, AdminUnit.unit_type,
                   AdminUnit.parent_code, AdminUnit.area_km2, BoundarySet.name.label("set_name"),
                   BoundarySet.version).join(BoundarySet, BoundarySet.id == AdminUnit.boundary_set_id)
    units = units.where(AdminUnit.level == "commune")
    if scope is not None:
        units = units.where(AdminUnit.code.in_(sorted(scope)))
    out: list[tuple[str, str, dict[str, Any]]] = []
    for u in db.session.execute(units.order_by(BoundarySet.name, AdminUnit.code)):
        out.append(("commune", f"{u.set_name}:{u.code}", {
            "boundary_set": u.set_name, "set_version": u.version, "code": u.code, "name": u.name,
            "name_ascii": u.name_ascii, "unit_type": u.unit_type, "parent_code": u.parent_code,
            "area_km2": u.area_km2, "in_force": in_force is not None and u.set_name == in_force.name,
        }))
    latest = (select(PlanRevision.plan_id, func.max(PlanRevision.number).label("number"))
              .group_by(PlanRevision.plan_id).subquery())
    targets = (
        select(Plan.name, PlanRevision.id.label("revision_id"), PlanRevision.number, PlanRevision.effective_date,
               PlanRevision.deadline, PlanTarget.commune_code, PlanTarget.new_build, PlanTarget.repair,
               PlanTarget.budget_vnd)
        .join(PlanRevision, PlanRevision.plan_id == Plan.id)
        .join(latest, and_(latest.c.plan_id == PlanRevision.plan_id, latest.c.number == PlanRevision.number))
        .join(PlanTarget, PlanTarget.revision_id == PlanRevision.id)
    )
    if scope is not None:
        targets = targets.where(PlanTarget.commune_code.in_(sorted(scope)))
    for t in db.session.execute(targets.order_by(Plan.name, PlanTarget.commune_code)):
        out.append(("plan_target", f"{t.name}:{t.commune_code}", {
            "plan": t.name, "revision": t.number, "revision_id": t.revision_id,
            "effective_date": t.effective_date.isoformat(), "deadline": t.deadline.isoformat(),
            "commune_code": t.commune_code, "new_build": t.new_build, "repair": t.repair,
            "budget_vnd": t.budget_vnd,
        }))
    return out


def _fingerprint(reference: list[tuple[str, str, dict[str, Any]]]) -> str:
    digest = hashlib.sha256()
    for kind, key, data in reference:
        digest.update(f"{kind}|{key}|{sorted(data.items())}\n".encode())
    return digest.hexdigest()[:8]


# ---- receipt --------------------------------------------------------------------

def receipt(caller: Principal, household_ids: Sequence[str], photo_hashes: Sequence[str]) -> dict[str, Any]:
    """Which of these the server holds (and at which revision), so a phone may delete its copies.

    A household outside the caller's scope is reported as not held by them.
    """
    scope = caller.commune_scope()
    held: dict[str, Any] = {}
    if household_ids:
        current = aliased(HouseholdRevision)
        query = select(current.household_id, current.revision, current.content_hash).where(
            current.household_id.in_(list(household_ids)), current.superseded_at.is_(None))
        if scope is not None:
            query = query.where(revision_in_scope(current, scope))
        held = {row.household_id: row for row in db.session.execute(query)}
    photos = known_among(caller, photo_hashes)
    return {
        "households": [
            {"id": hid, "held": hid in held, "revision": held[hid].revision if hid in held else None,
             "content_hash": held[hid].content_hash if hid in held else None}
            for hid in household_ids
        ],
        "photos": [{"sha256": sha, "held": sha in photos} for sha in photo_hashes],
    }
