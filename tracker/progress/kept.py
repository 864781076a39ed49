"""Commune tallies kept by the household ledger, and when reports may sum them.

Counting 334,000 households for the first report of a date took most of a
second, in every worker. The ledger therefore keeps, in the same
transaction as each household change, the *deltas* of
:mod:`tracker.progress.tally_events` per (boundary set, commune, support
type, day), the same per month, and five times a month the running total
of every delta before it (:mod:`tracker.progress.cumulative`). A report with
``known_at`` = now on ``as_of`` is then the nearer running total plus or
less the day rows between it and ``as_of``: small rows shared by every worker and host (about 35,000 for the 334,000
households of the national benchmark in mid-April, against a join of every
household revision; the sums are read in :mod:`tracker.progress.day_sums`).

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
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import (
    Column,
    MetaData,
    String,
    Table,
    delete,
    except_,
    func,
    insert,
    or_,
    select,
    type_coerce,
    union,
    update,
)

from sync.records import revision_columns
from tracker.boundaries.models import BoundarySet
from tracker.dbtypes import utcnow
from tracker.extensions import db
from tracker.households.models import HouseholdRevision, RevisionAssignment, SyncCounter
from tracker.households.sequence import COUNTER
from tracker.progress import cumulative, snapshots
from tracker.progress.models import CommuneTally, TallyState
from tracker.progress.tally_arrays import tally_sums
from tracker.progress.tally_events import FUNDS as FUND_COLUMNS
from tracker.progress.tally_events import VALUES, deltas, month_of

if TYPE_CHECKING:
    from tracker.households.ledger import Change
    from tracker.progress.context import ReportContext

HR, RA, T = HouseholdRevision, RevisionAssignment, CommuneTally
KEY = ("boundary_set_id", "grain", "day", "commune_code", "support_type")
# A report whose known_at is older than this counts from the revisions (see covers()).
LIVE = timedelta(seconds=60)
MOVED_ONE_BY_ONE = 2000  # a re-assignment moving more current revisions than this counts the set afresh
COUNTED_BATCH = 50_000  # revisions counted at once by a rebuild (whole communes)
Key = tuple[int, str, date, str, str]
Row = tuple[Any, ...]  # a tally row as the driver takes it: the values of KEY, then of VALUES


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
    _upsert(acc, _running_rows(acc))
    in_step = TallyState.last_revision_id.is_(None) if before is None else TallyState.last_revision_id == before
    db.session.execute(update(TallyState).where(in_step).values(last_revision_id=last_revision()))
    _tell_stored_days(acc)


def _tell_stored_days(acc: dict[Key, list[int]]) -> None:
    """Each set's day deltas told to its stored day sums (see :mod:`tracker.progress.snapshots`)."""
    rows: dict[int, list[snapshots.JournalRow]] = defaultdict(list)
    for (set_id, grain, day, code, support), values in acc.items():
        if grain == "d" and any(values):
            rows[set_id].append((day, code, support, values))
    for set_id, written in sorted(rows.items()):
        snapshots.written(set_id, min(row[0] for row in written), written)


def _running_rows(acc: dict[Key, list[int]]) -> list[Row]:
    """What the day rows' deltas add to the running totals after them, the span widened first to take them."""
    days: dict[int, set[date]] = defaultdict(set)
    rows: list[Row] = []
    for set_id, grain, day, _, _ in acc:
        if grain == "d":
            days[set_id].add(day)
    for set_id, touched in days.items():
        state = db.session.execute(select(TallyState.cumulative_from, TallyState.cumulative_to)
                                   .where(TallyState.boundary_set_id == set_id)).first()
        if state is None:
            continue  # a set not kept (yet): a rebuild counts it all
        current = None if state[0] is None else (state[0], state[1])
        span = cumulative.widen(set_id, current, cumulative.wanted_span(current, touched))
        if span is None:
            continue
        groups: dict[tuple[str, str], list[tuple[date, list[int]]]] = defaultdict(list)
        for (sid, grain, day, code, support), values in acc.items():
            if sid == set_id and grain == "d" and any(values):
                groups[(code, support)].append((day, values))
        keys, as_param = list(groups), _day_param()
        rows += [(set_id, "c", as_param(anchor), *keys[g], *values)
                 for g, anchor, values in cumulative.spread(span, [groups[key] for key in keys])]
    return rows


def _day_param() -> Any:
    """A day as the driver takes it here: ISO text on SQLite (as SQLAlchemy stores dates there), else as it is."""
    return date.isoformat if db.engine.dialect.name == "sqlite" else (lambda day: day)


def _upsert(acc: dict[Key, list[int]], more: list[Row]) -> None:
    """Add each delta of ``acc``, and the rows ``more``, to their rows, made when missing: one statement, in key order.

    A push of 100 households writes a few thousand rows (each reaching the
    running totals after it). Handed to the driver as plain tuples: through
    the ORM's statement, its per-row processing cost more than SQLite's work.
    """
    as_param = _day_param()
    rows = sorted([(set_id, grain, as_param(on), code, support, *values)
                   for (set_id, grain, on, code, support), values in acc.items() if any(values)] + more)
    if rows:
        db.session.connection().exec_driver_sql(_driver_sql(upsert=True), rows)


def _driver_sql(upsert: bool) -> str:
    """The driver's statement inserting tally rows (KEY's values, then VALUES'); with ``upsert``, adding to a row there."""
    names, mark = (*KEY, *VALUES), "?" if db.engine.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {T.__tablename__} ({', '.join(names)}) VALUES ({', '.join(mark for _ in names)})"
    if not upsert:
        return sql
    added = ", ".join(f"{name} = {T.__tablename__}.{name} + excluded.{name}" for name in VALUES)
    return f"{sql} ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET {added}"


def covers(ctx: ReportContext) -> bool:
    """True when the kept tallies give exactly the report's counts (see the module doc); asked once per report."""
    if ctx.covered is None:
        ctx.covered = _covers(ctx)
    return ctx.covered


def _covers(ctx: ReportContext) -> bool:
    state = db.session.execute(select(TallyState.last_revision_id)
                               .where(TallyState.boundary_set_id == ctx.boundary_set.id)).first()
    if state is None:
        return False
    last_id, last_received = db.session.execute(
        select(select(func.max(HR.id)).scalar_subquery(), select(func.max(HR.received_at)).scalar_subquery())
    ).one()
    return (state[0] == last_id and (last_received is None or ctx.known_at >= last_received)
            and ctx.known_at >= utcnow() - LIVE)


def _counted(boundary_set: BoundarySet) -> Iterator[list[tuple[Any, ...]]]:
    """The set's tallies counted afresh from the current revisions, as rows, a few communes at a time.

    The revisions are read in commune order and counted in arrays
    (:mod:`tracker.progress.tally_arrays`) a batch of whole communes at a
    time, so only those communes' sums are held at once (the whole set's
    took about a gigabyte at national scale) and no delta is a Python object.
    """
    dated = [HR.surveyed_on, HR.approved_on, HR.started_on, HR.completed_on, HR.handed_over_on, HR.withdrawn_on]
    funds = [HR.__table__.c[name] for name in FUND_COLUMNS]
    # Dates as the driver gives them (text on SQLite): numpy reads both, without a date object per value.
    query = (select(RA.commune_code, RA.needs_review, HR.support_type,
                    *(type_coerce(c, String).label(c.key) for c in dated), *funds)
             .join(HR, HR.id == RA.revision_id)
             .where(RA.boundary_set_id == boundary_set.id, HR.superseded_at.is_(None))
             .order_by(RA.commune_code)
             .execution_options(yield_per=COUNTED_BATCH))
    batch: list[Any] = []
    for row in db.session.execute(query):
        if len(batch) >= COUNTED_BATCH and row[0] != batch[-1][0]:
            yield _counted_rows(boundary_set.id, batch, [c.key for c in dated])
            batch = []
        batch.append(row)
    if batch:
        yield _counted_rows(boundary_set.id, batch, [c.key for c in dated])


def _counted_rows(set_id: int, rows: list[Any], dated: list[str]) -> list[tuple[Any, ...]]:
    columns = list(zip(*rows))
    keys: dict[tuple[str, str], int] = {}
    group = np.fromiter((keys.setdefault((code or "", support), len(keys))
                         for code, support in zip(columns[0], columns[2])), dtype=np.int64, count=len(rows))
    review = np.fromiter((bool(r) for r in columns[1]), dtype=bool, count=len(rows))
    dates = {name: np.array(columns[3 + i], dtype="datetime64[D]") for i, name in enumerate(dated)}
    money = np.array(columns[3 + len(dated):], dtype=np.int64).T.reshape(len(rows), len(FUND_COLUMNS))
    by_index = list(keys)
    out = []
    for grain, summed in zip(("d", "m"), tally_sums(group, review, dates, money)):
        for g, day, values in zip(summed.group.tolist(), summed.day, summed.values.tolist()):
            code, support = by_index[g]
            out.append((set_id, grain, day, code, support, *values))
    return out


def moved(boundary_set: BoundarySet, before: dict[int, tuple[str | None, bool]],
          after: dict[int, tuple[str | None, bool]]) -> None:
    """A re-assignment moved current revisions (id → commune and review state): move their tallies too.

    Only the revisions whose commune or review state changed are read. When
    the set's tallies were not in step, or most revisions moved, they are
    counted afresh instead.
    """
    state = db.session.scalar(select(TallyState.last_revision_id).where(TallyState.boundary_set_id == boundary_set.id))
    changed = sorted(i for i in before.keys() | after.keys() if before.get(i) != after.get(i))
    if state is None or state != last_revision():
        rebuild(boundary_set)
        return
    if len(changed) > MOVED_ONE_BY_ONE:
        _recount(boundary_set)
        return
    if not changed:
        return
    dated = [HR.surveyed_on, HR.approved_on, HR.started_on, HR.completed_on, HR.handed_over_on, HR.withdrawn_on]
    funds = [HR.__table__.c[name] for name in FUND_COLUMNS]
    names = [c.key for c in dated] + [c.key for c in funds]
    query = select(HR.id, HR.support_type, *dated, *funds).where(HR.superseded_at.is_(None))
    acc: dict[Key, list[int]] = defaultdict(lambda: [0] * len(VALUES))
    for start in range(0, len(changed), 500):
        for revision_id, support, *values in db.session.execute(query.where(HR.id.in_(changed[start:start + 500]))):
            columns = dict(zip(names, values))
            if (old := before.get(revision_id)) is not None:
                _add(acc, boundary_set.id, old[0], support, columns, old[1], -1)
            if (new := after.get(revision_id)) is not None:
                _add(acc, boundary_set.id, new[0], support, columns, new[1], 1)
    _upsert(acc, _running_rows(acc))
    _tell_stored_days(acc)


def _recount(boundary_set: BoundarySet) -> None:
    """Count the set's tallies afresh in place, as plain rows, with no comparison: most of them moved anyway.

    For a re-assignment by the ledger, which holds the writers' lock and whose
    tallies were in step before it; :func:`rebuild` is the checked way.
    """
    set_id = boundary_set.id
    db.session.execute(delete(T).where(T.boundary_set_id == set_id))
    days: set[date] = set()
    for rows in _counted(boundary_set):
        db.session.connection().exec_driver_sql(_driver_sql(upsert=False), rows)
        days.update(row[2] for row in rows if row[1] == "d")
    _restart_state(set_id)
    cumulative.widen(set_id, None, cumulative.wanted_span(None, days))


def _restart_state(set_id: int) -> None:
    """The set's tallies were counted afresh: in step with the last revision, every stored day sum gone.

    Its generation carries on from the old state's (a day's sums computed before
    must not be stored after).
    """
    old = snapshots.generation(set_id)
    db.session.execute(delete(TallyState).where(TallyState.boundary_set_id == set_id))
    db.session.execute(insert(TallyState).values(boundary_set_id=set_id, last_revision_id=last_revision(),
                                                 generation=old or 0))
    snapshots.written(set_id, None)


def start(boundary_set: BoundarySet) -> None:
    """A new set: no household is assigned under it yet, so its (empty) tallies are exact."""
    db.session.execute(insert(TallyState).values(boundary_set_id=boundary_set.id, last_revision_id=last_revision()))


def rebuild(boundary_set: BoundarySet) -> int:
    """Count the set's tallies afresh and put them in place; returns how many rows had drifted.

    Writers wait meanwhile (the ledger's counter row is held), so no change
    falls between the count and the swap. The fresh rows are written commune
    by commune into a table of the transaction's own, compared with the kept
    ones by the database, then swapped in. The caller commits: until then,
    and if anything fails, the old tallies stay in force.
    """
    db.session.execute(update(SyncCounter).where(SyncCounter.name == COUNTER).values(value=SyncCounter.value))
    set_id = boundary_set.id
    staging = _staging_table()
    connection = db.session.connection()
    staging.drop(connection, checkfirst=True)
    staging.create(connection)
    batch: list[dict[str, Any]] = []
    for rows in _counted(boundary_set):
        batch += [dict(zip((*KEY, *VALUES), row)) for row in rows]
        if len(batch) >= 5000:
            db.session.execute(insert(staging), batch)
            batch = []
    if batch:
        db.session.execute(insert(staging), batch)
    drifted = _drifted(staging, set_id)
    db.session.execute(delete(T).where(T.boundary_set_id == set_id))
    db.session.execute(insert(T).from_select(  # in key order: PostgreSQL lays them out so (reports read key ranges)
        [*KEY, *VALUES], select(*(staging.c[n] for n in (*KEY, *VALUES))).order_by(*(staging.c[n] for n in KEY))))
    days = set(db.session.scalars(select(staging.c.day).where(staging.c.grain == "d").distinct()))
    staging.drop(connection)
    _restart_state(set_id)
    cumulative.widen(set_id, None, cumulative.wanted_span(None, days))
    return drifted


def _staging_table() -> Table:
    """A table for one rebuild's fresh rows: the tallies' columns, no keys."""
    columns = [Column(c.name, c.type, nullable=c.nullable) for c in T.__table__.columns]
    return Table("tally_rebuild", MetaData(), *columns, prefixes=["TEMPORARY"])


def _drifted(staging: Table, set_id: int) -> int:
    """How many (grain, day, commune, type) keys differ between the fresh rows and the kept day and month rows."""
    table = T.__table__
    names = [n for n in KEY if n != "boundary_set_id"]
    fresh = select(*(staging.c[n] for n in (*names, *VALUES)))
    old = select(*(table.c[n] for n in (*names, *VALUES))).where(
        table.c.boundary_set_id == set_id, table.c.grain.in_(("d", "m")), or_(*(table.c[n] != 0 for n in VALUES)))
    gained, lost = except_(fresh, old).subquery(), except_(old, fresh).subquery()
    keys = union(select(*(gained.c[n] for n in names)), select(*(lost.c[n] for n in names))).subquery()
    return int(db.session.scalar(select(func.count()).select_from(keys)) or 0)
