"""Commune tallies kept by the household ledger, and reports summed from them.

Counting 334,000 households for the first report of a date took most of a
second, in every worker. The ledger therefore keeps, in the same
transaction as each household change, the *deltas* of
:mod:`tracker.progress.tally_events` per (boundary set, commune, support
type, day), and the same per month. A report with ``known_at`` = now on
``as_of`` is then the sum of the month rows before ``as_of``'s month and
the day rows of its month up to ``as_of``: small rows shared by every
worker and host (about 190,000 for the 334,000 households of the national
benchmark in mid-April, against a join of every household revision).

Reports use the kept tallies only when they are exactly what a count would
give (:func:`covers`): the set's :class:`TallyState` is at the last revision
stored (a write outside the ledger or a restored copy leaves it behind) and
``known_at`` is now, at or after the last receipt. Any other report, and
every report with a past ``known_at``, counts from the revisions.
:func:`rebuild` counts a set's tallies afresh (``flask tallies rebuild``) in
the caller's transaction, so an interrupted rebuild leaves the old ones in
force.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from sync.records import revision_columns
from tracker.boundaries.models import BoundarySet
from tracker.dbtypes import utcnow
from tracker.extensions import db
from tracker.households.models import HouseholdRevision, RevisionAssignment, SyncCounter
from tracker.households.sequence import COUNTER
from tracker.progress.models import CommuneTally, TallyState
from tracker.progress.tallies import FUNDS, SLOT, Tally, empty_tally
from tracker.progress.tally_events import COUNTS, VALUES, deltas, month_of
from tracker.progress.tally_events import FUNDS as FUND_COLUMNS

if TYPE_CHECKING:
    from tracker.households.ledger import Change
    from tracker.progress.context import ReportContext

HR, RA, T = HouseholdRevision, RevisionAssignment, CommuneTally
KEY = ("boundary_set_id", "grain", "day", "commune_code", "support_type")
# A report whose known_at is older than this counts from the revisions (see covers()).
LIVE = timedelta(seconds=60)
Key = tuple[int, str, date, str, str]


def _add(acc: dict[Key, list[int]], set_id: int, code: str | None, support: str, columns: dict[str, Any],
         needs_review: bool, sign: int) -> None:
    for day, values in deltas(columns, needs_review, sign):
        for key in ((set_id, "d", day, code or "", support), (set_id, "m", month_of(day), code or "", support)):
            row = acc[key]
            for i, value in enumerate(values):
                row[i] += value


def last_revision() -> int | None:
    """The id of the last revision stored (call it before writing, under the ledger's lock)."""
    return db.session.scalar(select(func.max(HR.id)))


def record(changes: Iterable[Change], before: int | None) -> None:
    """Add the written changes to the tallies, less their previous revisions; the caller's transaction.

    ``before`` is :func:`last_revision` from before the changes were
    written: the sets whose tallies were in step with it stay in step.
    """
    acc: dict[Key, list[int]] = defaultdict(lambda: [0] * len(VALUES))
    for change in changes:
        if not change.written:
            continue
        if change.previous is not None:
            old = revision_columns(change.previous.data)
            for set_id, row in change.previous.assignments.items():
                _add(acc, set_id, row["commune_code"], old["support_type"], old, bool(row["needs_review"]), -1)
        new = revision_columns(change.record)
        for set_id, row in change.assignments.items():
            _add(acc, set_id, row["commune_code"], new["support_type"], new, bool(row["needs_review"]), 1)
    _upsert(acc)
    in_step = TallyState.last_revision_id.is_(None) if before is None else TallyState.last_revision_id == before
    db.session.execute(update(TallyState).where(in_step).values(last_revision_id=last_revision()))


def _upsert(acc: dict[Key, list[int]]) -> None:
    rows = [dict(zip(KEY, key)) | dict(zip(VALUES, values)) for key, values in acc.items() if any(values)]
    if not rows:
        return
    table = T.__table__
    stmt = (pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert)(table)
    stmt = stmt.on_conflict_do_update(index_elements=list(KEY),
                                      set_={name: table.c[name] + stmt.excluded[name] for name in VALUES})
    db.session.execute(stmt, rows)


def covers(ctx: ReportContext) -> bool:
    """True when the kept tallies give exactly the report's counts (see the module doc)."""
    state = db.session.execute(select(TallyState.last_revision_id)
                               .where(TallyState.boundary_set_id == ctx.boundary_set.id)).first()
    if state is None:
        return False
    last_id, last_received = db.session.execute(
        select(select(func.max(HR.id)).scalar_subquery(), select(func.max(HR.received_at)).scalar_subquery())
    ).one()
    return (state[0] == last_id and (last_received is None or ctx.known_at >= last_received)
            and ctx.known_at >= utcnow() - LIVE)


def sums(ctx: ReportContext, communes: Collection[str | None] | None = None) -> dict[str | None, Tally]:
    """Per commune code (None: unassigned) the counts and funding on ``as_of``, from the kept tallies."""
    month = month_of(ctx.as_of)
    table = T.__table__
    wanted = [T.boundary_set_id == ctx.boundary_set.id]
    if ctx.scope is not None:
        wanted.append(T.commune_code.in_(sorted(ctx.scope)))
    if communes is not None:
        wanted.append(T.commune_code.in_(sorted(c or "" for c in communes)))
    rows = union_all(  # the months before as_of's month, then its days up to as_of: two index ranges
        select(table).where(*wanted, T.grain == "m", T.day < month),
        select(table).where(*wanted, T.grain == "d", T.day >= month, T.day <= ctx.as_of),
    ).subquery()
    query = (select(rows.c.commune_code, rows.c.support_type, *(func.sum(rows.c[name]) for name in VALUES))
             .group_by(rows.c.commune_code, rows.c.support_type))
    tallies: dict[str | None, Tally] = {}
    present: dict[str | None, int] = defaultdict(int)
    slots = [SLOT[name] for name in COUNTS]
    for code, support, known, *values in db.session.execute(query):
        code = code or None
        tally = tallies.get(code)
        if tally is None:
            tally = tallies[code] = empty_tally()
        present[code] += int(known or 0)
        kind = 1 if support == "repair" else 0
        for slot, value in zip(slots, values):
            if value:
                tally[slot + kind] += int(value)
        for i, value in enumerate(values[len(COUNTS):]):
            if value:
                tally[FUNDS + i] += int(value)
    return {code: tally for code, tally in tallies.items() if present[code]}  # as a count has them


def _counted(boundary_set: BoundarySet) -> dict[Key, list[int]]:
    """The set's tallies counted afresh from the current revisions."""
    dated = [HR.surveyed_on, HR.approved_on, HR.started_on, HR.completed_on, HR.handed_over_on, HR.withdrawn_on]
    funds = [HR.__table__.c[name] for name in FUND_COLUMNS]
    names = [c.key for c in dated] + [c.key for c in funds]
    acc: dict[Key, list[int]] = defaultdict(lambda: [0] * len(VALUES))
    query = (select(RA.commune_code, RA.needs_review, HR.support_type, *dated, *funds)
             .join(HR, HR.id == RA.revision_id)
             .where(RA.boundary_set_id == boundary_set.id, HR.superseded_at.is_(None))
             .execution_options(yield_per=5000))
    for code, review, support, *values in db.session.execute(query):
        _add(acc, boundary_set.id, code, support, dict(zip(names, values)), bool(review), 1)
    return acc


def start(boundary_set: BoundarySet) -> None:
    """A new set: no household is assigned under it yet, so its (empty) tallies are exact."""
    db.session.execute(insert(TallyState).values(boundary_set_id=boundary_set.id, last_revision_id=last_revision()))


def rebuild(boundary_set: BoundarySet) -> int:
    """Count the set's tallies afresh and put them in place; returns how many rows had drifted.

    Writers wait meanwhile (the ledger's counter row is held), so no change
    falls between the count and the swap. The caller commits: until then,
    and if anything fails, the old tallies stay in force.
    """
    db.session.execute(update(SyncCounter).where(SyncCounter.name == COUNTER).values(value=SyncCounter.value))
    fresh = {key: values for key, values in _counted(boundary_set).items() if any(values)}
    kept: dict[Key, list[int]] = {}
    for row in db.session.execute(select(T.__table__).where(T.boundary_set_id == boundary_set.id)):
        values = [int(row._mapping[name]) for name in VALUES]
        if any(values):
            kept[tuple(row._mapping[name] for name in KEY)] = values  # type: ignore[assignment]
    drifted = sum(1 for key in fresh.keys() | kept.keys() if fresh.get(key) != kept.get(key))
    db.session.execute(delete(T).where(T.boundary_set_id == boundary_set.id))
    rows = [dict(zip(KEY, key)) | dict(zip(VALUES, values)) for key, values in fresh.items()]
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(T), rows[start:start + 5000])
    db.session.execute(delete(TallyState).where(TallyState.boundary_set_id == boundary_set.id))
    db.session.execute(insert(TallyState).values(boundary_set_id=boundary_set.id, last_revision_id=last_revision()))
    return drifted
