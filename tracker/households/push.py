"""``POST /api/v1/sync/push``: storing a phone's batch of household records.

Validation, the decision per record (``sync.decide``) and the three-way
merge (``sync.merge``) are pure; this module fetches the server's state,
calls them and writes the outcome in the caller's transaction:

1. a batch already answered (same user and device, same ``batch_id``) gets the stored
   answer again — nothing is written;
2. every record is validated on its own and assigned to a commune under every
   boundary set (vectorised, before any lock is taken);
3. the batch's households are held (``ledger.hold``: locked, current
   revisions read), and each record decided: created, updated, unchanged,
   merged, conflict or rejected (validation, scope, status going back);
4. the ledger writes the decided records in bulk (``ledger.append``); the
   batch's answer is stored for resends.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_

from sync.decide import REJECTED, UNCHANGED, Current, Decision, decide, out_of_scope, push_hash
from sync.validate import Checked, check_batch
from tracker.accounts.auth import Principal
from tracker.audit import service as audit
from tracker.boundaries.models import BoundarySet
from tracker.boundaries.service import boundary_sets
from tracker.errors import ApiError
from tracker.extensions import db
from tracker.geo.assign import Assignment
from tracker.households import ledger, locks
from tracker.households.assignment import assign_records
from tracker.households.ledger import Held
from tracker.households.models import HouseholdRevision, SyncBatch
from tracker.households.service import default_set, location_errors
from tracker.photos.service import known_among


@dataclass
class Item:
    """One record of the batch on its way through."""

    checked: Checked
    decision: Decision | None = None
    stored: Held | None = None
    per_set: dict[int, Assignment] = field(default_factory=dict)
    revision: int | None = None
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)  # set id → the assignment stored

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
    def held(self) -> Held:
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
        select(SyncBatch).where(SyncBatch.user_id == caller.user_id, SyncBatch.device_id == caller.device_id,
                                SyncBatch.batch_id == batch_id)
    )
    if row is None:
        return None
    if row.request_hash != digest:
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

    locks.lock(locks.NS_BATCH, [f"{caller.user_id}\x00{caller.device_id}\x00{batch_id}"])
    if (answer := replayed(caller, batch_id, digest)) is not None:  # a twin of this batch just committed
        return answer
    held = ledger.hold([item.id for item in valid])
    for item in valid:
        item.stored = held.get(item.id)
    _decide_all(valid, caller, sets)
    now = _write(valid, caller, batch_id)
    results = _results(items, sets, caller)
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
            base_data.get((item.id, base)) if base is not None else None, stored.times,
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
    return (json.dumps(record.get("location"), sort_keys=True), record.get("declared_commune"),
            record.get("declared_set"))


# ---- writing ------------------------------------------------------------------

def _write(items: list[Item], caller: Principal, batch_id: str) -> datetime:
    """Hand the decided records to the ledger; returns the receipt time."""
    writes = [item for item in items if item.decision and item.decision.writes]
    changes = [
        ledger.Change(
            item.id, item.outcome.record or {}, item.outcome.result, item.per_set, previous=item.stored,
            content_hash=item.outcome.hash, base_revision=item.checked.base_revision,
            push_hash=push_hash(item.checked.base_revision, item.checked.hash),
            conflicts=item.outcome.conflicts, times=item.outcome.times, audit={"batch_id": batch_id},
        )
        for item in writes
    ]
    now = ledger.append(changes, ledger.Actor(caller.user_id, caller.username, caller.device_id))
    for item, change in zip(writes, changes):
        if not change.written:  # created meanwhile by a writer outside the push protocol
            item.decision = Decision(REJECTED, errors={"id": ["This id was created meanwhile; push again."]})
        item.revision, item.rows = change.revision, change.assignments
    return now


def _audit_batch(caller: Principal, batch_id: str, results: list[dict[str, Any]], now: datetime) -> None:
    counts: dict[str, int] = {}
    for result in results:
        counts[result["result"]] = counts.get(result["result"], 0) + 1
    audit.append_many(caller.user_id, caller.username, caller.device_id, now, [
        ("sync.push", "sync_batch", batch_id, {"records": len(results), "results": counts})])


# ---- answering ----------------------------------------------------------------

def assignment_json(set_name: str, details: dict[str, Any], needs_review: bool) -> dict[str, Any]:
    return {"boundary_set": set_name, **details, "needs_review": needs_review}


def _kept(sets: Sets, stored: dict[int, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        sets.names[set_id]: assignment_json(sets.names[set_id], a["details"], a["needs_review"])
        for set_id, a in stored.items() if set_id in sets.names
    }


def _results(items: list[Item], sets: Sets, caller: Principal) -> list[dict[str, Any]]:
    photo_hashes = set()
    for item in items:
        record = _answer_record(item)
        for photo in (record or {}).get("photos") or []:
            photo_hashes.add(photo["sha256"])
    held = known_among(caller, photo_hashes)
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
            answer["assignments"] = _kept(sets, item.rows)
        elif item.stored is not None:
            answer["revision"] = item.stored.revision
            if result == UNCHANGED:
                answer["assignments"] = _kept(sets, item.stored.assignments)
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
