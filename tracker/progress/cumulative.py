"""Running totals: what a report sums before its last few days, kept as one row per commune and type.

Summing every month row before ``as_of``'s month, then the day rows of its
month, read about 190,000 rows for a national report. So, beside the day
(``d``) and month (``m``) rows, the ledger keeps a ``c`` row per commune and
support type at each *anchor* of a set's span (the 1st, 7th, 13th, 19th and
25th of every month): the sum of every delta dated before that day. A report
on ``as_of`` then reads one ``c`` row per commune and type at the nearer
anchor: the last one on or before ``as_of`` plus the day rows since, or the
next one less the day rows between (three days at most, as no two anchors
are more than seven days apart; the day before an anchor is its ``c`` rows
alone): 21,000 to 40,000 rows for the national benchmark (:func:`parts`).
Anchors a week apart left ten days from the 22nd to the 1st, and a report
in their middle read five days of rows.

The span (``TallyState.cumulative_from`` … ``cumulative_to``, both anchors)
covers the days that have deltas, from at most ``SPAN_MONTHS`` before the
last one, and never past the month after today's: it grows when a change
brings a delta outside it (:func:`widen`), its new ``c`` rows computed from
the ``c`` and ``d`` rows next to them. A delta on any day is added to every
``c`` row of the span after it, so each ``c`` row stays exact whatever the
order of the changes. A report before the span sums month and day rows, as
before; one after it reads the span's last ``c`` row and the day rows since.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import and_, case, func, insert, literal, select, update

from sync.vocabulary import today as today_vn
from tracker.extensions import db
from tracker.progress.models import CommuneTally, TallyState
from tracker.progress.tally_events import ALWAYS, VALUES, month_of

T = CommuneTally
SPAN_MONTHS = 36
Span = tuple[date, date]
Part = tuple[Any, int]  # a condition on the tally rows, and the sign their values are summed with


ANCHOR_DAYS = (1, 7, 13, 19, 25)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def anchor_of(day: date) -> date:
    """The last anchor on or before ``day``."""
    return day.replace(day=max(a for a in ANCHOR_DAYS if a <= day.day))


def next_anchor(anchor: date) -> date:
    later = [a for a in ANCHOR_DAYS if a > anchor.day]
    return anchor.replace(day=later[0]) if later else add_months(anchor.replace(day=1), 1)


def anchors_between(first: date, last: date) -> list[date]:
    """Every anchor from ``first`` to ``last`` inclusive (both anchors)."""
    out, anchor = [], first
    while anchor <= last:
        out.append(anchor)
        anchor = next_anchor(anchor)
    return out


def span_of(set_id: int) -> Span | None:
    row = db.session.execute(select(TallyState.cumulative_from, TallyState.cumulative_to)
                             .where(TallyState.boundary_set_id == set_id)).first()
    return None if row is None or row[0] is None else (row[0], row[1])


def wanted_span(current: Span | None, days: Iterable[date]) -> Span | None:
    """The span once deltas on ``days`` are in: the current one, widened to take them."""
    real = [anchor_of(d) for d in days if d > ALWAYS]
    if current is not None:
        real += list(current)
    if not real:
        return None
    last = min(max(real), add_months(month_of(today_vn()), 1))
    first = max(min(real), add_months(month_of(last), -SPAN_MONTHS))
    return (min(first, last), last)


def widen(set_id: int, current: Span | None, wanted: Span | None) -> Span | None:
    """Add the ``c`` rows of the anchors ``wanted`` has and ``current`` has not; record the span."""
    if wanted is None or wanted == current:
        return current
    if current is None:  # c(F) = the month rows before F's month + F's month's day rows before F
        first, month = wanted[0], month_of(wanted[0])
        _insert_sums(set_id, first, [((T.grain == "m") & (T.day < month))
                                     | ((T.grain == "d") & (T.day >= month) & (T.day < first))], sign_of_d=1)
        current = (first, first)
    before = current[1]
    for anchor in anchors_between(next_anchor(current[1]), wanted[1]):  # c(A) = c(A') + the days from A' to A
        _insert_sums(set_id, anchor, [((T.grain == "c") & (T.day == before))
                                      | ((T.grain == "d") & (T.day >= before) & (T.day < anchor))], sign_of_d=1)
        before = anchor
    for anchor in reversed(anchors_between(wanted[0], current[0])[:-1]):  # c(A) = c(A') - the days from A to A'
        after = next_anchor(anchor)
        _insert_sums(set_id, anchor, [((T.grain == "c") & (T.day == after))
                                      | ((T.grain == "d") & (T.day >= anchor) & (T.day < after))], sign_of_d=-1)
    db.session.execute(update(TallyState).where(TallyState.boundary_set_id == set_id)
                       .values(cumulative_from=wanted[0], cumulative_to=wanted[1]))
    return wanted


def _insert_sums(set_id: int, anchor: date, where: Sequence[Any], sign_of_d: int) -> None:
    """``c`` rows at ``anchor``: per commune and type, the sum of the rows ``where`` picks (``d`` rows signed)."""
    table = T.__table__
    signed = [func.sum(table.c[name] if sign_of_d == 1 else case((T.grain == "d", -table.c[name]),
                                                                    else_=table.c[name]))
              for name in VALUES]
    rows = (select(literal(set_id), literal("c"), literal(anchor, type_=T.day.type), T.commune_code,
                   T.support_type, *signed)
            .where(T.boundary_set_id == set_id, and_(*where))
            .group_by(T.commune_code, T.support_type))
    db.session.execute(insert(table).from_select(
        ["boundary_set_id", "grain", "day", "commune_code", "support_type", *VALUES], rows))


def parts(as_of: date, span: Span | None) -> list[Part]:
    """The conditions picking the rows whose sum is the tallies on ``as_of`` (besides the set's own), each signed.

    Within the span, from the nearer of the two anchors around ``as_of``: the
    running total before it plus the days since, or the running total after
    it less the days between (a running total sums every delta dated before
    its anchor, so the day before an anchor is its running total alone).
    """
    anchor = anchor_of(as_of)
    if span is None or anchor < span[0]:
        month = month_of(as_of)
        return [(and_(T.grain == "m", T.day < month), 1), (and_(T.grain == "d", T.day >= month, T.day <= as_of), 1)]
    after = next_anchor(anchor)
    if anchor < span[1] and (after - as_of).days - 1 < (as_of - anchor).days + 1:
        later = [(and_(T.grain == "d", T.day > as_of, T.day < after), -1)] if (after - as_of).days > 1 else []
        return [(and_(T.grain == "c", T.day == after), 1), *later]
    anchor = min(anchor, span[1])
    return [(and_(T.grain == "c", T.day == anchor), 1), (and_(T.grain == "d", T.day >= anchor, T.day <= as_of), 1)]


def spread(span: Span, groups: Sequence[Sequence[tuple[date, Sequence[int]]]]) -> Iterator[tuple[int, date, list[int]]]:
    """What each group's day deltas add to the span's ``c`` rows: (group index, anchor, values), none all zero.

    Each anchor of the span takes the sum of the deltas dated before it
    (a delta dated "always" reaches them all). Added delta by delta and
    anchor by anchor in Python, a push of 100 new households (each one
    dated "always", so reaching every anchor) spent 80 ms here; the groups
    are summed a few hundred at a time in arrays instead.
    """
    anchors = anchors_between(*span)
    ordinals = np.array([anchor.toordinal() for anchor in anchors], dtype=np.int64)
    for first in range(0, len(groups), SPREAD_GROUPS):
        chunk = groups[first:first + SPREAD_GROUPS]
        owner = np.array([g for g, deltas in enumerate(chunk) for _ in deltas], dtype=np.intp)
        if not len(owner):
            continue
        days = np.array([day.toordinal() for deltas in chunk for day, _ in deltas], dtype=np.int64)
        values = np.array([values for deltas in chunk for _, values in deltas], dtype=np.int64)
        buckets = np.zeros((len(chunk), len(anchors) + 1, values.shape[1]), dtype=np.int64)
        np.add.at(buckets, (owner, np.searchsorted(ordinals, days, side="right")), values)  # the first anchor after
        running = np.cumsum(buckets[:, :-1], axis=1)
        reached, at = np.nonzero(running.any(axis=2))
        for g, a, summed in zip(reached.tolist(), at.tolist(), running[reached, at].tolist()):
            yield first + g, anchors[a], summed


SPREAD_GROUPS = 256  # (commune, support type) groups summed at once: at most 256 x 181 anchors x 14 values
