"""A report's per-commune sums from the kept tallies: a stored day, a stored day plus the days since, or the running totals.

The reading side of :mod:`tracker.progress.kept`: for a report with
``known_at`` = now (where :func:`tracker.progress.kept.covers` holds) the
sums on ``as_of`` are the sums of the nearest day stored by an earlier
report, at most a week away (:mod:`tracker.progress.snapshots`), plus the
journal written since and the day rows between; or else the last running
total before ``as_of`` plus the day rows since
(:mod:`tracker.progress.cumulative`). Sums of the whole set are then stored
for the next report.
"""
from __future__ import annotations

from collections.abc import Collection
from operator import add
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Table, and_, case, func, select, union_all

from tracker.extensions import db
from tracker.progress import cumulative, snapshots
from tracker.progress.models import CommuneTally, TallyJournal
from tracker.progress.tallies import Tally
from tracker.progress.tally_events import COUNTS
from tracker.progress.tally_events import FUNDS as FUND_COLUMNS

if TYPE_CHECKING:
    from tracker.progress.context import ReportContext

T = CommuneTally
Sums = snapshots.Sums


def sums(ctx: ReportContext, communes: Collection[str | None] | None = None) -> dict[str | None, Tally]:
    """Per commune code (None: unassigned) the counts and funding on ``as_of``, from the kept tallies.

    A report of the whole set starts from the nearest day's sums stored by an
    earlier one (:mod:`tracker.progress.snapshots`) when there is one, or sums
    the running totals; it stores what it found for the next report.
    """
    summed, since = None, None
    if communes is None and ctx.scope is None:
        set_id = ctx.boundary_set.id
        since = snapshots.generation(set_id)
        stored = snapshots.stored_near(set_id, ctx.as_of, STORED_DAYS_NEAR)
        if stored is not None:
            summed = _from_stored(ctx, stored)
            if summed is stored.sums and stored.day == ctx.as_of:
                since = None  # stored as it is: nothing to store again
    if summed is None:
        summed = _summed(T.__table__, ctx, communes, cumulative.parts(ctx.as_of, cumulative.span_of(ctx.boundary_set.id)))
    if since is not None:
        snapshots.keep(ctx.boundary_set.id, ctx.as_of, since, summed)
    # The sums of each commune go straight into the slots of a tally.
    return {code or None: [0, 0, *values[1:_FUNDS_AT], 0, *values[_FUNDS_AT:], 0]
            for code, values in summed.items() if values[0]}  # a commune counts once a household is known there


def _from_stored(ctx: ReportContext, stored: snapshots.Stored) -> Sums:
    """A stored day's sums, the journal written since added, moved to ``as_of`` by the day rows between.

    The stored sums themselves when nothing had to be added.
    """
    summed = stored.sums
    steps = [(TallyJournal.__table__, snapshots.journal_since(stored), 1)]
    if stored.day < ctx.as_of:
        steps.append((T.__table__, [T.grain == "d", T.day > stored.day, T.day <= ctx.as_of], 1))
    elif stored.day > ctx.as_of:
        steps.append((T.__table__, [T.grain == "d", T.day > ctx.as_of, T.day <= stored.day], -1))
    for table, where, sign in steps:
        for code, values in _summed(table, ctx, None, [and_(*where)]).items():
            summed = dict(summed) if summed is stored.sums else summed
            before = summed.get(code)
            if sign < 0:
                values = [-v for v in values]
            summed[code] = values if before is None else list(map(add, before, values))
    return summed


def _summed(table: Table, ctx: ReportContext, communes: Collection[str | None] | None,
            parts: list[Any]) -> Sums:
    """``{commune code: [present, each count by support type, each funding source]}``: the rows ``parts`` pick.

    The database adds the rows of ``table`` (the kept tallies or the journal)
    up and sets each count by support type side by side, so one row per
    commune comes back.
    """
    wanted = [table.c.boundary_set_id == ctx.boundary_set.id]
    if ctx.scope is not None:
        wanted.append(table.c.commune_code.in_(sorted(ctx.scope)))
    if communes is not None:
        wanted.append(table.c.commune_code.in_(sorted(c or "" for c in communes)))
    # Each part is an index range (see cumulative.parts).
    rows = union_all(*(select(table).where(*wanted, part) for part in parts)).subquery()
    repair = rows.c.support_type == "repair"
    per_type = [case((repair, 0), else_=rows.c[name]) if kind == 0 else case((repair, rows.c[name]), else_=0)
                for name in COUNTS for kind in (0, 1)]
    summed = [rows.c.present, *per_type, *(rows.c[name] for name in FUND_COLUMNS)]
    query = (select(rows.c.commune_code, *(func.sum(value).cast(BigInteger) for value in summed))
             .group_by(rows.c.commune_code))
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # PostgreSQL guesses 200 communes for the grouping: with the default memory it spills the sums to
        # disk, and it splits so small a read over parallel workers; both cost more than the sums.
        connection.exec_driver_sql("SET LOCAL work_mem = '64MB'")
        connection.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
    return {code: values for code, *values in connection.execute(query)}  # a Core read: no ORM rows


# A day not stored yet starts from a stored day at most this far from it (beyond, the running totals read less).
STORED_DAYS_NEAR = 6
# In the summed rows: present, then the counts by support type (the slots after the plan's in a tally), then
# the funding (after the budget's slot).
_FUNDS_AT = 1 + 2 * len(COUNTS)
