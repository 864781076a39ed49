"""Holding households and appending their changes: the writing half of the ledger."""
from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select

from sync.merge import FieldConflict, changed_at
from sync.records import content_hash, revision_columns
from tracker.audit import service as audit
from tracker.dbtypes import insert_into, utcnow
from tracker.extensions import db
from tracker.geo.assign import Assignment
from tracker.households import locks, sequence
from tracker.households.assignment import assignment_row
from tracker.households.ledger.standing import apply_decision, standing_decisions
from tracker.households.models import (
    Conflict,
    Household,
    HouseholdRevision,
    RevisionAssignment,
)
from tracker.progress import kept

CHUNK = 500  # ids per IN (…) list


@dataclass(frozen=True)
class Actor:
    """Who makes a change, and from which device (the audit trail's subject)."""

    user_id: int | None = None
    username: str = ""
    device_id: str = ""


@dataclass
class Held:
    """A household's current revision, read under its lock."""

    pk: int
    revision: int
    content_hash: str
    data: dict[str, Any]
    declared: str | None
    assignments: dict[int, dict[str, Any]] = field(default_factory=dict)  # set id → stored row
    times: dict[str, str] | None = None  # when each unit of ``data`` last changed (``sync.merge``)

    def codes(self) -> list[str | None]:
        """The declared commune and the commune under every set (for scope checks)."""
        return [self.declared] + [a["commune_code"] for a in self.assignments.values()]


@dataclass
class Change:
    """One decided change to a household: its new record and where it came from.

    ``previous`` is the household's current revision from :func:`hold`
    (``None`` for a new household); ``per_set`` the geometry's assignment of
    ``record`` under every boundary set. After :func:`append`, ``revision``
    and ``assignments`` (the rows stored per set, decisions applied) are
    filled in, and ``written`` says whether it was stored. ``times`` says when
    each unit of ``record`` last changed (a merge knows); left None, it is
    derived from ``previous`` (``sync.merge.changed_at``).
    """

    household_id: str
    record: dict[str, Any]
    result: str
    per_set: dict[int, Assignment]
    previous: Held | None = None
    content_hash: str | None = None
    base_revision: int | None = None
    push_hash: str | None = None
    conflicts: Sequence[FieldConflict] = ()
    times: dict[str, str] | None = None
    received_at: datetime | None = None  # a replayed history only (the demo)
    action: str | None = None  # the audit action; ``household.<result>`` unless given
    audit: dict[str, Any] = field(default_factory=dict)

    revision: int | None = None
    assignments: dict[int, dict[str, Any]] = field(default_factory=dict)
    written: bool = False


# ---- reading under the lock ------------------------------------------------------

def hold(ids: Collection[str]) -> dict[str, Held]:
    """Lock these households until the transaction ends and read their current revisions.

    Households not in the answer do not exist (yet). Whatever the caller
    decides from this answer stays true until it commits.
    """
    ids = list(dict.fromkeys(ids))
    locks.lock_households(ids)
    held: dict[str, Held] = {}
    for start in range(0, len(ids), CHUNK):
        rows = db.session.execute(
            select(HouseholdRevision.id, HouseholdRevision.household_id, HouseholdRevision.revision,
                   HouseholdRevision.content_hash, HouseholdRevision.data, HouseholdRevision.declared_commune,
                   HouseholdRevision.field_times)
            .where(HouseholdRevision.household_id.in_(ids[start:start + CHUNK]),
                   HouseholdRevision.superseded_at.is_(None))
        )
        for row in rows:
            held[row.household_id] = Held(row.id, row.revision, row.content_hash, row.data, row.declared_commune,
                                          times=row.field_times)
    by_pk = {h.pk: h for h in held.values()}
    pks = list(by_pk)
    for start in range(0, len(pks), CHUNK):
        for a in db.session.execute(
            select(RevisionAssignment.revision_id, RevisionAssignment.boundary_set_id,
                   RevisionAssignment.commune_code, RevisionAssignment.needs_review, RevisionAssignment.details)
            .where(RevisionAssignment.revision_id.in_(pks[start:start + CHUNK]))
        ):
            by_pk[a.revision_id].assignments[a.boundary_set_id] = {
                "commune_code": a.commune_code, "needs_review": a.needs_review, "details": a.details,
            }
    return held


# ---- appending -------------------------------------------------------------------

def append(changes: Sequence[Change], actor: Actor) -> datetime:
    """Store decided changes of households held by :func:`hold`; returns the receipt time.

    A new household whose id was inserted meanwhile by a writer that did not
    hold its lock is skipped (``written`` stays False); every other change is
    written. The caller commits.
    """
    decided = standing_decisions([c.household_id for c in changes if c.previous is not None])
    for change in changes:
        accuracy = (change.record.get("location") or {}).get("accuracy_m")
        change.assignments = {set_id: assignment_row(0, set_id, a, accuracy) for set_id, a in change.per_set.items()}
        for set_id, row in change.assignments.items():
            if (decision := decided.get((change.household_id, set_id))) is not None:
                apply_decision(row, decision, change.record)
    if not changes:
        return utcnow()
    first_seq = sequence.allocate(len(changes))  # holds the counter row until commit: see the module doc
    now = utcnow()
    before = kept.last_revision()
    seqs = {change.household_id: first_seq + i for i, change in enumerate(changes)}
    written = _insert_households([c for c in changes if c.previous is None], seqs, now)
    written += _supersede([c for c in changes if c.previous is not None], seqs, now)
    if written:
        _insert_revisions(written, actor, now)
        kept.record(written, before)  # the commune tallies, in the same transaction
    return now


def _insert_households(new: list[Change], seqs: dict[str, int], now: datetime) -> list[Change]:
    if not new:
        return []
    table = Household.__table__
    stmt = insert_into(table, locks.dialect()).on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id)
    inserted = set(db.session.scalars(stmt, [
        {"id": c.household_id, "revision": 1, "change_seq": seqs[c.household_id],
         "created_at": c.received_at or now, "updated_at": c.received_at or now}
        for c in new
    ]).all())
    return [c for c in new if c.household_id in inserted]


def _supersede(existing: list[Change], seqs: dict[str, int], now: datetime) -> list[Change]:
    if not existing:
        return []
    table = HouseholdRevision.__table__
    previous = [c.previous for c in existing if c.previous is not None]
    db.session.execute(table.update().where(table.c.id.in_([p.pk for p in previous])).values(superseded_at=now))
    household = Household.__table__
    db.session.execute(
        household.update().where(household.c.id == bindparam("h_id")).values(
            revision=bindparam("h_revision"), change_seq=bindparam("h_seq"), updated_at=bindparam("h_at")),
        [{"h_id": c.household_id, "h_revision": c.previous.revision + 1, "h_seq": seqs[c.household_id],
          "h_at": now} for c in existing if c.previous is not None],
    )
    return existing


def _insert_revisions(changes: list[Change], actor: Actor, now: datetime) -> None:
    rows = []
    for change in changes:
        change.revision = (change.previous.revision if change.previous else 0) + 1
        change.written = True
        previous = change.previous
        times = change.times if change.times is not None else changed_at(
            previous.data if previous else None, previous.times if previous else None, change.record)
        rows.append({
            "household_id": change.household_id, "revision": change.revision,
            "received_at": change.received_at or now, "result": change.result, "device_id": actor.device_id,
            "user_id": actor.user_id, "content_hash": change.content_hash or content_hash(change.record),
            "base_revision": change.base_revision, "push_hash": change.push_hash, "data": change.record,
            "field_times": times or None,
            **revision_columns(change.record),
        })
    table = HouseholdRevision.__table__
    # One multi-row INSERT, then the new ids in one SELECT: the new revisions
    # are the only current ones of these households (the old were superseded).
    # INSERT … RETURNING in parameter order goes row by row on SQLite.
    db.session.execute(table.insert(), rows)
    ids = [c.household_id for c in changes]
    revision_ids: dict[str, int] = {}
    for start in range(0, len(ids), CHUNK):
        revision_ids.update(db.session.execute(
            select(table.c.household_id, table.c.id).where(
                table.c.household_id.in_(ids[start:start + CHUNK]), table.c.superseded_at.is_(None))
        ).all())
    assignment_rows = []
    for change in changes:
        for row in change.assignments.values():
            row["revision_id"] = revision_ids[change.household_id]
            assignment_rows.append(row)
    if assignment_rows:
        db.session.execute(RevisionAssignment.__table__.insert(), assignment_rows)
    conflict_rows = [
        {"household_id": change.household_id, "revision": change.revision, "field": c.path, "base_value": c.base,
         "server_value": c.server, "client_value": c.client, "kept": c.kept, "device_id": actor.device_id,
         "user_id": actor.user_id, "created_at": now}
        for change in changes for c in change.conflicts
    ]
    if conflict_rows:
        db.session.execute(Conflict.__table__.insert(), conflict_rows)
    audit.append_many(actor.user_id, actor.username, actor.device_id, now, [
        (change.action or f"household.{change.result}", "household", change.household_id,
         {"revision": change.revision, **change.audit,
          **({"conflicts": [c.path for c in change.conflicts]} if change.conflicts else {})})
        for change in changes
    ])
