"""Re-assigning every household revision under one boundary set, in bulk.

After a set's boundaries are loaded (or a crosswalk changes how declared
codes read), every revision gets its assignment under the set again. The
assignment engine answers in columns; the rows are written from those
columns as plain tuples in batches (``COPY`` on PostgreSQL, ``executemany``
on SQLite), never one object per household: 334,000 households are a few
seconds of engine and a few of writing.

What stays as in :func:`~tracker.households.ledger.write.append`: the
standing manager decisions under the set are applied to the revisions that
followed them, the kept commune tallies move with every current revision
whose commune or review state changed (in the same transaction), and one
audit event records the re-assignment. Writers wait meanwhile (the ledger's
counter row is held from the start), so no revision is written between the
read and the swap.

Every revision is re-assigned, superseded ones too: the assignment of a
past revision is rewritten, so a report with a ``known_at`` before the
re-assignment reads the new map's answer for the households it counted.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import delete, select, update

from tracker.audit import service as audit
from tracker.boundaries.models import BoundarySet
from tracker.boundaries.service import commune_index
from tracker.crosswalks.declared import judged, read_declared
from tracker.dbtypes import utcnow
from tracker.extensions import db
from tracker.households import locks
from tracker.households.assignment import assignment_row, batch_rows, declared_maps
from tracker.households.ledger.standing import apply_decision
from tracker.households.ledger.write import Actor
from tracker.households.models import AssignmentDecision, HouseholdRevision, RevisionAssignment, SyncCounter
from tracker.households.sequence import COUNTER
from tracker.jsoncodec import dumps
from tracker.progress import kept

HR, RA = HouseholdRevision, RevisionAssignment
COLUMNS = ("revision_id", "boundary_set_id", "commune_code", "flag", "needs_review", "details")
Row = tuple[int, int, Any, Any, bool, str]


def reassign_set(
    boundary_set: BoundarySet, actor: Actor | None = None, chunk: int = 20_000,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """(Re)compute every revision's assignment under one set, e.g. after its boundaries are loaded.

    Works in batches of ``chunk`` revisions, calling ``progress(done,
    total)`` after each. Returns the number of revisions assigned. The
    caller commits (until then, and if anything fails, the old assignments
    stay in force).
    """
    db.session.execute(update(SyncCounter).where(SyncCounter.name == COUNTER).values(value=SyncCounter.value))
    revisions = db.session.execute(select(
        HR.id, HR.household_id, HR.revision, HR.lat, HR.lon, HR.accuracy_m, HR.declared_commune,
        HR.data["declared_set"].as_string(), HR.data["captured_at"].as_string(), HR.superseded_at.is_(None),
    ).order_by(HR.id)).all()
    before = _current_assignments(boundary_set)
    db.session.execute(delete(RA).where(RA.boundary_set_id == boundary_set.id))
    decided = {d.household_id: d for d in db.session.scalars(
        select(AssignmentDecision).where(AssignmentDecision.boundary_set_id == boundary_set.id))}
    maps = declared_maps([r[7] for r in revisions], [r[8] for r in revisions])
    after: dict[int, tuple[str | None, bool]] = {}
    done = 0
    for start in range(0, len(revisions), chunk):
        part = revisions[start:start + chunk]
        rows = _assigned(boundary_set, part, maps[start:start + chunk], decided)
        _insert(rows)
        after.update((row[0], (row[2], bool(row[4]))) for row, r in zip(rows, part) if r[9])
        done += len(rows)
        if progress is not None:
            progress(done, len(revisions))
    kept.moved(boundary_set, before, after)
    actor = actor or Actor()
    audit.append_many(actor.user_id, actor.username, actor.device_id, utcnow(), [
        ("households.reassign", "boundary_set", boundary_set.name, {"revisions": done})])
    return done


def _current_assignments(boundary_set: BoundarySet) -> dict[int, tuple[str | None, bool]]:
    """The current revisions' commune and review state under the set, before re-assigning."""
    rows = db.session.execute(
        select(RA.revision_id, RA.commune_code, RA.needs_review).join(HR, HR.id == RA.revision_id)
        .where(RA.boundary_set_id == boundary_set.id, HR.superseded_at.is_(None)))
    return {revision_id: (code, bool(review)) for revision_id, code, review in rows}


def _assigned(boundary_set: BoundarySet, part: Sequence[Any], maps: Sequence[int | None],
              decided: dict[str, AssignmentDecision]) -> list[Row]:
    """One batch's rows: the engine's columns, then the standing decisions over the few they concern."""
    own, readings = read_declared(boundary_set, [r[6] for r in part], maps)
    batch = commune_index(boundary_set).assign_many(
        [r[3] for r in part], [r[4] for r in part], [r[5] or 0.0 for r in part], own)
    rows = batch_rows(batch, [r[0] for r in part], boundary_set.id, [r[5] for r in part], readings)
    for i, r in enumerate(part):
        decision = decided.get(r[1])
        if decision is not None and r[2] > decision.revision:
            row = assignment_row(r[0], boundary_set.id, _judged_row(batch, i, readings[i]), r[5])
            apply_decision(row, decision, {"location": {"lat": r[3], "lon": r[4]}})
            rows[i] = (r[0], boundary_set.id, row["commune_code"], row["flag"], bool(row["needs_review"]),
                       dumps(row["details"]))
    return rows


def _judged_row(batch: Any, i: int, reading: tuple[str, ...] | None) -> Any:
    return judged([batch.row(i)], [reading])[0]


def _insert(rows: list[Row]) -> None:
    """Plain tuples, in bulk: ``COPY`` on PostgreSQL, one ``executemany`` on SQLite."""
    if not rows:
        return
    connection = db.session.connection()
    names = ", ".join(COLUMNS)
    if locks.dialect() == "postgresql":
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {RA.__tablename__} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    connection.exec_driver_sql(f"INSERT INTO {RA.__tablename__} ({names}) VALUES (?, ?, ?, ?, ?, ?)", rows)
