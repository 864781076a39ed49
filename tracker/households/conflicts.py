"""Conflicts left by merges: listing them, and a manager's resolution.

Resolving keeps the server's value, the client's, or a value the manager
gives; when that differs from the household's current value the ledger
appends a new revision (result ``resolved``), so history keeps every step.
"""
from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from schemas.household import HouseholdSchema
from sync.decide import stored_form
from sync.merge import get_path, set_path
from sync.validate import flatten
from tracker.accounts.auth import Principal
from tracker.audit import service as audit
from tracker.dbtypes import utcnow
from tracker.errors import ApiError
from tracker.extensions import db
from tracker.households import ledger
from tracker.households.assignment import assign_records
from tracker.households.models import Conflict, HouseholdRevision
from tracker.households.scope import mask_conflict, revision_in_scope
from tracker.households.service import location_errors


def conflict_json(c: Conflict) -> dict[str, Any]:
    return {
        "id": c.id, "household_id": c.household_id, "revision": c.revision, "field": c.field,
        "base_value": c.base_value, "server_value": c.server_value, "client_value": c.client_value,
        "kept": c.kept, "device_id": c.device_id, "created_at": c.created_at.isoformat(),
        "resolved_at": c.resolved_at.isoformat() if c.resolved_at else None, "resolution": c.resolution,
    }


def list_conflicts(caller: Principal, status: str, household_id: str | None, limit: int, offset: int) -> dict:
    query = select(Conflict)
    if status == "open":
        query = query.where(Conflict.resolved_at.is_(None))
    elif status == "resolved":
        query = query.where(Conflict.resolved_at.is_not(None))
    if household_id:
        query = query.where(Conflict.household_id == household_id)
    scope = caller.commune_scope()
    if scope is not None:
        current = aliased(HouseholdRevision)
        query = query.join(current, (current.household_id == Conflict.household_id)
                           & current.superseded_at.is_(None)).where(revision_in_scope(current, scope))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(Conflict.id).limit(limit).offset(offset)).all()
    return {"conflicts": [mask_conflict(conflict_json(c), caller) for c in rows], "total": total}


def resolve(caller: Principal, conflict_id: int, keep: str, value: Any, note: str, *, value_given: bool) -> dict:
    """Settle a conflict; the caller commits."""
    conflict = db.session.get(Conflict, conflict_id)
    if conflict is None:
        raise ApiError(404, f"No conflict {conflict_id}.")
    current = ledger.hold([conflict.household_id])[conflict.household_id]
    db.session.refresh(conflict)
    if conflict.resolved_at is not None:
        raise ApiError(409, "This conflict is already resolved.", code="already_resolved")
    if keep == "value" and not value_given:
        raise ApiError(422, "keep=value needs a value.", fields={"value": ["Missing data for required field."]})
    chosen = {"server": conflict.server_value, "client": conflict.client_value}.get(keep, value)
    revision, changed = current.revision, False
    if get_path(current.data, conflict.field) != chosen:
        record = _validated(set_path(current.data, conflict.field, chosen))
        revision = _append(current, record, caller, conflict.id)
        changed = True
    now = utcnow()
    conflict.resolved_at, conflict.resolved_by = now, caller.user_id
    conflict.resolution = {"keep": keep, "value": chosen, "note": note, "revision": revision,
                           "by": caller.username}
    audit.record("conflict.resolve", actor_id=caller.user_id, actor_name=caller.username,
                 device_id=caller.device_id, object_type="conflict", object_id=str(conflict.id),
                 details={"household_id": conflict.household_id, "field": conflict.field, "keep": keep,
                          "revision": revision, "changed": changed})
    db.session.flush()
    return {"conflict": conflict_json(conflict), "revision": revision, "changed": changed}


def _validated(record: dict[str, Any]) -> dict[str, Any]:
    schema = HouseholdSchema()
    try:
        loaded = schema.load({**record, "base_revision": None})
    except ValidationError as exc:
        raise ApiError(422, "The resolved record does not validate.", fields=flatten(exc.messages)) from None
    return stored_form(schema.dump(loaded))


def _append(current: ledger.Held, record: dict[str, Any], caller: Principal, conflict_id: int) -> int:
    """The resolved record as the household's new revision (``resolved``); returns its number."""
    by_set = assign_records([record])
    per_set = {set_id: assigned[0] for set_id, assigned in by_set.items()}
    if errors := location_errors(record, list(per_set.values())):
        raise ApiError(422, "The resolved record does not validate.", fields=errors)
    change = ledger.Change(record["id"], record, "resolved", per_set, previous=current,
                           audit={"conflict_id": conflict_id})
    ledger.append([change], ledger.Actor(caller.user_id, caller.username, caller.device_id))
    assert change.revision is not None
    return change.revision
