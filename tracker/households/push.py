"""``POST /api/v1/sync/push``: storing a phone's batch of household records.

Validation, the decision per record (``sync.decide``) and the three-way
merge (``sync.merge``) are pure; this module fetches the server's state,
calls them and writes the outcome in the caller's transaction:

1. a batch already answered (same device, same ``batch_id``) gets the stored
   answer again — nothing is written;
2. every record is validated on its own and assigned to a commune under every
   boundary set (vectorised, before any lock is taken);
3. the batch's households are locked (``locks``), their current revisions
   read, and each record decided: created, updated, unchanged, merged,
   conflict or rejected (validation, scope, status going back);
4. the writes go in bulk: households (``INSERT … ON CONFLICT DO NOTHING``),
   revisions, assignments, conflicts, audit events and the batch's answer.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from sync.decide import CONFLICT, REJECTED, UNCHANGED, Current, Decision, decide, out_of_scope, push_hash
from sync.records import revision_columns
from sync.validate import Checked, check_batch
from tracker.accounts.auth import Principal
from tracker.audit.models import AuditEvent
from tracker.boundaries.models import BoundarySet
from tracker.boundaries.service import boundary_sets
from tracker.dbtypes import utcnow
from tracker.errors import ApiError
from tracker.extensions import db
from tracker.geo.assign import Assignment
from tracker.households import locks, sequence
from tracker.households.assignment import REVIEW_FLAGS, assign_records, assignment_row
from tracker.households.models import (
    Conflict,
    Household,
    HouseholdRevision,
    Photo,
    RevisionAssignment,
    SyncBatch,
)
from tracker.households.service import default_set, location_errors


@dataclass
class Stored:
    """A household's current revision as read under the lock."""

    pk: int
    revision: int
    content_hash: str
    data: dict[str, Any]
    declared: str | None
    assignments: dict[int, dict[str, Any]] = field(default_factory=dict)  # set id → stored row

    def codes(self) -> list[str | None]:
        return [self.declared] + [a["commune_code"] for a in self.assignments.values()]


@dataclass
class Item:
    """One record of the batch on its way through."""

    checked: Checked
    decision: Decision | None = None
    stored: Stored | None = None
    per_set: dict[int, Assignment] = field(default_factory=dict)
    revision: int | None = None

    # For records that passed validation (the only ones past step 2):
    @property
    def id(self) -> str:
        return self.checked.id or ""

    @property
    def record(self) -> dict[str, Any]:
        assert self.checked.record is not None
        return self.checked.record

    @property
    def outcome(self) -> Decision:
        assert self.decision is not None
        return self.decision

    @property
    def held(self) -> Stored:
        assert self.stored is not None
        return self.stored


class Sets:
    """The boundary sets of this push: names, and the default set."""

    def __init__(self) -> None:
        self.all: list[BoundarySet] = boundary_sets()
        self.names = {s.id: s.name for s in self.all}
        primary = default_set(self.all)
        self.primary_id = primary.id if primary else None


def request_hash(households: Sequence[Any]) -> str:
    payload = json.dumps(households, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def replayed(caller: Principal, batch_id: str, digest: str) -> dict[str, Any] | None:
    """The stored answer to this batch, if it was already taken."""
    row = db.session.scalar(
        select(SyncBatch).where(SyncBatch.device_id == caller.device_id, SyncBatch.batch_id == batch_id)
    )
    if row is None:
        return None
    if row.request_hash != digest or row.user_id != caller.user_id:
        raise ApiError(409, "This batch_id was already used for a different batch.", code="batch_id_reused",
                       fields={"batch_id": ["Already used for a different batch; use a new batch_id."]})
    return row.response


def push(caller: Principal, batch_id: str, households: Sequence[Any]) -> dict[str, Any]:
    """Take one batch; returns ``{"batch_id", "results": [...]}``. The caller commits."""
    digest = request_hash(households)
    if (answer := replayed(caller, batch_id, digest)) is not None:
        return answer
    items = [Item(c) for c in check_batch(households)]
    valid = [item for item in items if item.checked.ok]
    sets = Sets()
    _assign(valid, [item.record for item in valid], sets)

    locks.lock(locks.NS_BATCH, [f"{caller.device_id}\x00{batch_id}"])
    if (answer := replayed(caller, batch_id, digest)) is not None:  # a twin of this batch just committed
        return answer
    locks.lock_households([item.id for item in valid])
    _load_current(valid)
    _decide_all(valid, caller, sets)
    now = utcnow()
    _write(valid, caller, batch_id, sets, now)
    results = _results(items, sets)
    answer = {"batch_id": batch_id, "results": results}
    _audit_batch(caller, batch_id, results, now)
    db.session.execute(SyncBatch.__table__.insert().values(
        device_id=caller.device_id, batch_id=batch_id, user_id=caller.user_id, request_hash=digest,
        response=answer, created_at=now))
    return answer


# ---- reading ------------------------------------------------------------------

def _assign(items: list[Item], records: list[dict[str, Any]], sets: Sets) -> None:
    if not items:
        return
    by_set = assign_records(records, sets.all)
    for i, item in enumerate(items):
        item.per_set = {set_id: assigned[i] for set_id, assigned in by_set.items()}


def _load_current(items: list[Item]) -> None:
    by_id = {item.checked.id: item for item in items}
    if not by_id:
        return
    rows = db.session.execute(
        select(
            HouseholdRevision.id, HouseholdRevision.household_id, HouseholdRevision.revision,
            HouseholdRevision.content_hash, HouseholdRevision.data, HouseholdRevision.declared_commune,
        ).where(HouseholdRevision.household_id.in_(list(by_id)), HouseholdRevision.superseded_at.is_(None))
    ).all()
    if not rows:
        return
    by_pk: dict[int, Stored] = {}
    for row in rows:
        stored = Stored(row.id, row.revision, row.content_hash, row.data, row.declared_commune)
        by_id[row.household_id].stored = stored
        by_pk[row.id] = stored
    for a in db.session.execute(
        select(RevisionAssignment.revision_id, RevisionAssignment.boundary_set_id, RevisionAssignment.commune_code,
               RevisionAssignment.needs_review, RevisionAssignment.details)
        .where(RevisionAssignment.revision_id.in_(list(by_pk)))
    ):
        by_pk[a.revision_id].assignments[a.boundary_set_id] = {
            "commune_code": a.commune_code, "needs_review": a.needs_review, "details": a.details,
        }


def _current_for(items: list[Item]) -> dict[str, Current]:
    """The decision inputs of the records that exist: push hashes and base revisions."""
    existing = [item for item in items if item.stored is not None]
    if not existing:
        return {}
    wanted = {push_hash(item.checked.base_revision, item.checked.hash) for item in existing}
    seen: dict[str, set[str]] = {}
    for row in db.session.execute(
        select(HouseholdRevision.household_id, HouseholdRevision.push_hash).where(
            HouseholdRevision.household_id.in_([item.checked.id for item in existing]),
            HouseholdRevision.push_hash.in_(list(wanted)),
        )
    ):
        seen.setdefault(row.household_id, set()).add(row.push_hash)
    bases = {
        (item.checked.id, item.checked.base_revision) for item in existing
        if item.checked.base_revision is not None and item.checked.base_revision < item.held.revision
    }
    base_data: dict[tuple[str, int], dict[str, Any]] = {}
    if bases:
        for row in db.session.execute(
            select(HouseholdRevision.household_id, HouseholdRevision.revision, HouseholdRevision.data)
            .where(tuple_(HouseholdRevision.household_id, HouseholdRevision.revision).in_(list(bases)))
        ):
            base_data[(row.household_id, row.revision)] = row.data
    out = {}
    for item in existing:
        stored = item.stored
        assert stored is not None
        base = item.checked.base_revision
        out[item.id] = Current(
            stored.revision, stored.data, stored.content_hash, frozenset(seen.get(item.id, ())),
            base_data.get((item.id, base)) if base is not None else None,
        )
    return out


# ---- deciding -----------------------------------------------------------------

def _decide_all(items: list[Item], caller: Principal, sets: Sets) -> None:
    current = _current_for(items)
    scope = caller.commune_scope()
    for item in items:
        checked = item.checked
        if item.stored is not None and out_of_scope(scope, item.stored.codes()):
            item.decision = Decision(REJECTED, errors={"id": ["This household is outside your communes."]})
            continue
        item.decision = decide(item.record, checked.hash, current.get(item.id),
                               may_regress=caller.is_manager)
    # A merged record may sit somewhere else than the pushed one: assign it again.
    moved = [item for item in items if item.decision and item.decision.writes
             and item.decision.hash != item.checked.hash and _place(item.decision.record) != _place(item.checked.record)]
    _assign(moved, [item.outcome.record or {} for item in moved], sets)
    for item in items:
        decision = item.decision
        assert decision is not None
        if not decision.writes:
            continue
        assigned = list(item.per_set.values())
        record = decision.record or {}
        if out_of_scope(scope, [record.get("declared_commune")] + [a.commune for a in assigned]):
            item.decision = Decision(REJECTED, errors={"declared_commune": [
                "This household is outside your communes (by its declared commune and by its GPS point)."]})
        elif errors := location_errors(record, assigned):
            item.decision = Decision(REJECTED, errors=errors)


def _place(record: dict[str, Any] | None) -> tuple[Any, ...]:
    record = record or {}
    return (json.dumps(record.get("location"), sort_keys=True), record.get("declared_commune"))


# ---- writing ------------------------------------------------------------------

def _insert_ignoring_existing(rows: list[dict[str, Any]]) -> set[str]:
    """Insert households; returns the ids inserted (an id that exists is skipped)."""
    table = Household.__table__
    insert = pg_insert if locks.dialect() == "postgresql" else sqlite_insert
    stmt = insert(table).on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id)
    return set(db.session.scalars(stmt, rows).all())


def _write(items: list[Item], caller: Principal, batch_id: str, sets: Sets, now: Any) -> None:
    writes = [item for item in items if item.decision and item.decision.writes]
    if not writes:
        return
    first_seq = sequence.allocate(len(writes))  # gaps (an insert skipped below) are harmless
    seqs = {item.checked.id: first_seq + i for i, item in enumerate(writes)}
    new = [item for item in writes if item.stored is None]
    if new:
        inserted = _insert_ignoring_existing(
            [{"id": item.checked.id, "revision": 1, "change_seq": seqs[item.checked.id], "created_at": now,
              "updated_at": now} for item in new]
        )
        for item in new:
            if item.checked.id not in inserted:  # created meanwhile by a writer outside the push protocol
                item.decision = Decision(REJECTED, errors={"id": ["This id was created meanwhile; push again."]})
        writes = [item for item in writes if item.outcome.writes]
    existing = [item for item in writes if item.stored is not None]
    if existing:
        table = HouseholdRevision.__table__
        db.session.execute(table.update().where(table.c.id.in_([item.held.pk for item in existing]))
                           .values(superseded_at=now))
        household = Household.__table__
        db.session.execute(
            household.update().where(household.c.id == bindparam("h_id")).values(
                revision=bindparam("h_revision"), change_seq=bindparam("h_seq"), updated_at=bindparam("h_at")),
            [{"h_id": item.id, "h_revision": item.held.revision + 1,
              "h_seq": seqs[item.checked.id], "h_at": now} for item in existing],
        )
    if not writes:
        return
    revision_rows = []
    for item in writes:
        decision = item.decision
        assert decision is not None and decision.record is not None
        item.revision = (item.stored.revision if item.stored else 0) + 1
        revision_rows.append({
            "household_id": item.checked.id, "revision": item.revision, "received_at": now,
            "result": decision.result, "device_id": caller.device_id, "user_id": caller.user_id,
            "content_hash": decision.hash, "base_revision": item.checked.base_revision,
            "push_hash": push_hash(item.checked.base_revision, item.checked.hash),
            "data": decision.record, **revision_columns(decision.record),
        })
    table = HouseholdRevision.__table__
    # One multi-row INSERT, then the new ids in one SELECT: the new revisions
    # are the only current ones of these households (the old were superseded
    # above). INSERT … RETURNING in parameter order goes row by row on SQLite.
    db.session.execute(table.insert(), revision_rows)
    revision_ids = dict(db.session.execute(
        select(table.c.household_id, table.c.id).where(
            table.c.household_id.in_([item.checked.id for item in writes]), table.c.superseded_at.is_(None))
    ).all())
    assignment_rows = [
        assignment_row(revision_ids[item.checked.id], set_id, result)
        for item in writes
        for set_id, result in item.per_set.items()
    ]
    if assignment_rows:
        db.session.execute(RevisionAssignment.__table__.insert(), assignment_rows)
    conflict_rows = [
        {"household_id": item.checked.id, "revision": item.revision, "field": c.path, "base_value": c.base,
         "server_value": c.server, "client_value": c.client, "kept": c.kept, "device_id": caller.device_id,
         "user_id": caller.user_id, "created_at": now}
        for item in writes if item.outcome.result == CONFLICT for c in item.outcome.conflicts
    ]
    if conflict_rows:
        db.session.execute(Conflict.__table__.insert(), conflict_rows)
    db.session.execute(AuditEvent.__table__.insert(), [
        {"at": now, "actor_id": caller.user_id, "actor_name": caller.username, "device_id": caller.device_id,
         "action": f"household.{item.outcome.result}", "object_type": "household",
         "object_id": item.checked.id, "details": {
             "revision": item.revision, "batch_id": batch_id,
             "conflicts": [c.path for c in item.outcome.conflicts]}}
        for item in writes
    ])


def _audit_batch(caller: Principal, batch_id: str, results: list[dict[str, Any]], now: Any) -> None:
    counts: dict[str, int] = {}
    for result in results:
        counts[result["result"]] = counts.get(result["result"], 0) + 1
    db.session.execute(AuditEvent.__table__.insert(), [{
        "at": now, "actor_id": caller.user_id, "actor_name": caller.username, "device_id": caller.device_id,
        "action": "sync.push", "object_type": "sync_batch", "object_id": batch_id[:128],
        "details": {"records": len(results), "results": counts},
    }])


# ---- answering ----------------------------------------------------------------

def assignment_json(set_name: str, details: dict[str, Any], needs_review: bool) -> dict[str, Any]:
    return {"boundary_set": set_name, **details, "needs_review": needs_review}


def _fresh(sets: Sets, per_set: dict[int, Assignment]) -> dict[str, dict[str, Any]]:
    return {
        sets.names[set_id]: assignment_json(sets.names[set_id], a.to_dict(), bool(REVIEW_FLAGS.intersection(a.flags)))
        for set_id, a in per_set.items()
    }


def _kept(sets: Sets, stored: Stored) -> dict[str, dict[str, Any]]:
    return {
        sets.names[set_id]: assignment_json(sets.names[set_id], a["details"], a["needs_review"])
        for set_id, a in stored.assignments.items() if set_id in sets.names
    }


def _results(items: list[Item], sets: Sets) -> list[dict[str, Any]]:
    photo_hashes = set()
    for item in items:
        record = _answer_record(item)
        for photo in (record or {}).get("photos") or []:
            photo_hashes.add(photo["sha256"])
    held = _held_photos(photo_hashes)
    primary = sets.names.get(sets.primary_id) if sets.primary_id is not None else None
    out = []
    for item in items:
        decision = item.decision
        result = decision.result if decision else REJECTED
        errors = item.checked.errors if not item.checked.ok else (decision.errors if decision else {})
        answer: dict[str, Any] = {
            "id": item.checked.id, "result": result, "revision": None, "commune": None, "assignment": None,
            "assignments": {}, "errors": errors, "missing_photos": [],
        }
        if decision and decision.writes:
            answer["revision"] = item.revision
            answer["assignments"] = _fresh(sets, item.per_set)
        elif item.stored is not None:
            answer["revision"] = item.stored.revision
            if result == UNCHANGED:
                answer["assignments"] = _kept(sets, item.stored)
        if primary and primary in answer["assignments"]:
            answer["assignment"] = answer["assignments"][primary]
            answer["commune"] = answer["assignment"]["commune"]
        record = _answer_record(item)
        if record:
            answer["missing_photos"] = [p["sha256"] for p in record.get("photos") or [] if p["sha256"] not in held]
        if decision and decision.conflicts and decision.writes:
            answer["conflicts"] = [
                {"field": c.path, "kept": c.kept, "server_value": c.server, "client_value": c.client}
                for c in decision.conflicts
            ]
        out.append(answer)
    return out


def _answer_record(item: Item) -> dict[str, Any] | None:
    decision = item.decision
    if decision is None or decision.result == REJECTED:
        return None
    if decision.writes:
        return decision.record
    return item.stored.data if item.stored else None


def _held_photos(hashes: set[str]) -> set[str]:
    if not hashes:
        return set()
    return set(db.session.scalars(select(Photo.sha256).where(Photo.sha256.in_(list(hashes)))))
