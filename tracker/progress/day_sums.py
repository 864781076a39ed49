"""A report's per-commune sums from the kept tallies: a stored day, a stored day plus the days since, or the running totals.

The reading side of :mod:`tracker.progress.kept`: for a report with
``known_at`` = now (where :func:`tracker.progress.kept.covers` holds) the
sums on ``as_of`` are the sums of the nearest day stored by an earlier
report, at most a week away (:mod:`tracker.progress.snapshots`), plus the
journal written since and the day rows between; or else the nearer
running total, plus or less the day rows between
(:mod:`tracker.progress.cumulative`). Sums of the whole set are then stored
for the next report.
"""
from __future__ import annotations

from collections.abc import Collection
from functools import partial
from itertools import compress
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import String, Subquery, Table, and_, cast, func, select

from tracker.extensions import db
from tracker.http import after_response
from tracker.progress import cumulative, snapshots
from tracker.progress.models import CommuneTally, TallyJournal
from tracker.progress.tallies import AT_RISK, BUDGET, FUNDS, SLOT, WIDTH, Matrix, Tally
from tracker.progress.tally_events import COUNTS, VALUES

if TYPE_CHECKING:
    from tracker.progress.context import ReportContext

T = CommuneTally
Sums = snapshots.Sums


def sums(ctx: ReportContext, communes: Collection[str | None] | None = None) -> dict[str | None, Tally]:
    """Per commune code (None: unassigned) the counts and funding on ``as_of``, from the kept tallies."""
    return matrix(ctx, communes).as_dict()


def matrix(ctx: ReportContext, communes: Collection[str | None] | None = None) -> Matrix:
    """:func:`sums` as arrays.

    A report of the whole set starts from the nearest day's sums stored by an
    earlier one (:mod:`tracker.progress.snapshots`) when there is one, or sums
    the running totals; it stores what it found for the next report (in a
    request, once the answer is sent).
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
        after_response(partial(snapshots.keep, ctx.boundary_set.id, ctx.as_of, since, summed))
    return _tallies(summed)


def _tallies(summed: Sums) -> Matrix:
    """Each commune's sums in the slots of a tally; a commune counts once a household is known there."""
    known = summed.values[:, 0] > 0
    values = summed.values[known]
    tallies = np.zeros((len(values), WIDTH), dtype=np.int64)
    tallies[:, SLOT["households"]:BUDGET] = values[:, 1:_FUNDS_AT]
    tallies[:, FUNDS:AT_RISK] = values[:, _FUNDS_AT:]
    return Matrix([code or None for code in compress(summed.codes, known.tolist())], tallies)


def _from_stored(ctx: ReportContext, stored: snapshots.Stored) -> Sums:
    """A stored day's sums, the journal written since added, moved to ``as_of`` by the day rows between.

    The stored sums themselves when nothing had to be added.
    """
    summed = _plus(stored.sums, _summed(TallyJournal.__table__, ctx, None, [(and_(*snapshots.journal_since(stored)), 1)]))
    if stored.day != ctx.as_of:  # the days between: added after a day before, taken away before a day after
        first, last = sorted((stored.day, ctx.as_of))
        between = _summed(T.__table__, ctx, None, [(and_(T.grain == "d", T.day > first, T.day <= last), 1)])
        summed = _plus(summed, between, 1 if stored.day < ctx.as_of else -1)
    return summed


def _plus(base: Sums, more: Sums, sign: int = 1) -> Sums:
    """``base`` with ``more`` added (or, with ``sign`` -1, taken away), commune by commune; ``base`` if ``more`` is empty."""
    if not more.codes:
        return base
    index = {code: i for i, code in enumerate(base.codes)}
    codes = base.codes + [code for code in more.codes if code not in index]
    values = np.zeros((len(codes), snapshots.WIDTH), dtype=np.int64)
    values[:len(base.codes)] = base.values
    index.update((code, i) for i, code in enumerate(codes[len(base.codes):], len(base.codes)))
    at = np.fromiter(map(index.__getitem__, more.codes), dtype=np.intp, count=len(more.codes))
    values[at] += sign * more.values  # each code once in ``more``: one row per commune
    return Sums(codes, values)


def _summed(table: Table, ctx: ReportContext, communes: Collection[str | None] | None,
            parts: list[cumulative.Part]) -> Sums:
    """Per commune code, present, each count by support type and each funding source: the rows ``parts`` pick.

    The rows of ``table`` (the kept tallies or the journal) are read as they
    are and added up here: a database sum that also sets the counts by
    support type side by side cost SQLite two to three times the read.
    """
    wanted = [table.c.boundary_set_id == ctx.boundary_set.id]
    if ctx.scope is not None:
        wanted.append(table.c.commune_code.in_(sorted(ctx.scope)))
    if communes is not None:
        wanted.append(table.c.commune_code.in_(sorted(c or "" for c in communes)))
    columns = [table.c.commune_code, table.c.support_type, *(table.c[name] for name in VALUES)]
    # Each part is an index range (see cumulative.parts), read on its own: SQLite would pass a union's rows
    # through a co-routine, which cost more than the read.
    read = [(found, sign) for part, sign in parts
            if (found := _read_joined(select(*columns).where(*wanted, part).subquery()))]
    if not read:
        return Sums([], np.zeros((0, snapshots.WIDTH), dtype=np.int64))
    codes = [code for (found, _) in read for code in found[0]]
    repair = np.concatenate([found[1] for (found, _) in read])
    values = np.concatenate([found[2] * sign for (found, sign) in read])
    index = {code: i for i, code in enumerate(dict.fromkeys(codes))}
    at = np.fromiter(map(index.__getitem__, codes), dtype=np.intp, count=len(codes))
    counts = values[:, 1:1 + len(COUNTS)]
    wide = np.zeros((len(codes), snapshots.WIDTH), dtype=np.int64)
    wide[:, 0] = values[:, 0]
    wide[:, 1:_FUNDS_AT:2] = np.where(repair[:, None], 0, counts)
    wide[:, 2:_FUNDS_AT:2] = np.where(repair[:, None], counts, 0)
    wide[:, _FUNDS_AT:] = values[:, 1 + len(COUNTS):]
    summed = np.zeros((len(index), snapshots.WIDTH), dtype=np.int64)
    np.add.at(summed, at, wide)
    return Sums(list(index), summed)


def _read_joined(rows: Subquery) -> tuple[list[str], np.ndarray, np.ndarray] | None:
    """The commune codes, the repair flags and the values (a row per row, in VALUES order) of ``rows``; None: none.

    The columns come joined into strings by the database, in the pass that
    reads the rows, and numpy parses the numbers: fetched row by row, the
    34,000 rows of a national report made the driver build 600,000 Python
    objects, and took three times as long on SQLite. The aggregates of one
    statement are fed the rows in one order, so the columns line up.
    PostgreSQL joins each row's values first (``concat_ws``), a third faster
    there than a string per column; SQLite (before 3.44) has no such
    function, and joining with ``||`` cost it more than a string per column.
    """
    per_row = db.engine.dialect.name == "postgresql"
    numbers = ([func.concat_ws(" ", *(rows.c[name] for name in VALUES))] if per_row
               else [cast(rows.c[name], String) for name in VALUES])
    joined = [func.aggregate_strings(rows.c.commune_code, "\n"), func.aggregate_strings(rows.c.support_type, "\n"),
              *(func.aggregate_strings(column, " ") for column in numbers)]
    count, codes, supports, *values = db.session.connection().execute(select(func.count(), *joined)).one()
    if not count:
        return None
    parsed = [np.fromstring(column, dtype=np.int64, sep=" ") for column in values]
    codes, supports = codes.split("\n"), supports.split("\n")
    lengths = [count * len(VALUES)] if per_row else [count] * len(VALUES)
    if len(codes) != count or len(supports) != count or [len(column) for column in parsed] != lengths:
        raise ValueError(f"tally columns read back with unequal lengths ({count} rows)")
    matrix = parsed[0].reshape(count, len(VALUES)) if per_row else np.stack(parsed, axis=1)
    return codes, np.array(supports) == "repair", matrix


# A day not stored yet starts from a stored day at most this far from it (beyond, the running totals read less).
STORED_DAYS_NEAR = 6
# In the summed rows: present, then the counts by support type (the slots after the plan's in a tally), then
# the funding (after the budget's slot).
_FUNDS_AT = 1 + 2 * len(COUNTS)
