"""What one household revision adds to its commune's tally, day by day.

Pure arithmetic (no Flask, no database). A report counts a household on
``as_of`` by the rules of :mod:`tracker.progress.service`; each count is a
step function of ``as_of``: on from one day, off from another. A household's
contribution is therefore a few *deltas*, ``(day, values)``, and the tally
on ``as_of`` is the sum of the deltas dated on or before it. Kept per
(boundary set, commune, support type, day), these sums let a report add up
small rows instead of counting every household (:mod:`tracker.progress.kept`).

The values follow ``VALUES``: ``present`` (the household is known at all,
whatever its dates: a report has a row for every commune with one), the
counts, then the funding per source.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import Any

from schemas.household import FUNDING_SOURCES
from tracker.progress.pace import WINDOW_DAYS

COUNTS = ("households", "started", "completed", "handed_over", "in_window", "withdrawn", "needs_review")
FUNDS = tuple(f"fund_{s}" for s in FUNDING_SOURCES)
VALUES = ("present",) + COUNTS + FUNDS
ALWAYS = date(1, 1, 1)  # the day of a household with no stage date: counted from the start
_I = {name: i for i, name in enumerate(VALUES)}
Delta = tuple[date, list[int]]


def _first(*days: date | None) -> date | None:
    return next((d for d in days if d is not None), None)


def _span(start: date | None, end: date | None) -> tuple[date, date | None] | None:
    """``[start, end)`` or None when empty (no start, or over before it began)."""
    if start is None or (end is not None and end <= start):
        return None
    return start, end


def deltas(columns: Mapping[str, Any], needs_review: bool, sign: int = 1) -> Iterator[Delta]:
    """The deltas of one revision (its ``revision_columns``), times ``sign``.

    On ``as_of`` a household is *alive* from the day it entered (its first
    stage date in stage order; always, without one) until it is withdrawn;
    while alive it counts in households, needs_review and funding, and in
    started / completed / handed_over from those days on; in_window while
    its completion is within the pace window ending on ``as_of``;
    withdrawn from its withdrawal day on.
    """
    surveyed, approved, started, completed, handed = (
        columns.get(f"{s}_on") for s in ("surveyed", "approved", "started", "completed", "handed_over"))
    withdrawn = columns.get("withdrawn_on")
    entered = _first(surveyed, approved, started, completed, handed) or ALWAYS
    supported = _first(completed, handed)
    alive = _span(entered, withdrawn)
    yield from _step(ALWAYS, None, {"present": sign})
    if withdrawn is not None:
        yield from _step(withdrawn, None, {"withdrawn": sign})
    if alive is None:
        return
    funds = {f"fund_{s}": sign * int(columns.get(f"fund_{s}") or 0) for s in FUNDING_SOURCES}
    yield from _step(*alive, {"households": sign, "needs_review": sign if needs_review else 0, **funds})
    for name, day in (("started", _first(started, completed, handed)), ("completed", supported),
                      ("handed_over", handed)):
        if day is not None and (span := _span(max(day, entered), withdrawn)) is not None:
            yield from _step(*span, {name: sign})
    if supported is not None:
        window_end = supported + timedelta(days=WINDOW_DAYS)
        end = window_end if withdrawn is None else min(window_end, withdrawn)
        if (span := _span(max(supported, entered), end)) is not None:
            yield from _step(*span, {"in_window": sign})


def _step(start: date, end: date | None, values: dict[str, int]) -> Iterator[Delta]:
    row = [0] * len(VALUES)
    for name, value in values.items():
        row[_I[name]] = value
    if not any(row):
        return
    yield start, row
    if end is not None:
        yield end, [-v for v in row]


def month_of(day: date) -> date:
    """The first day of ``day``'s month: the key of the monthly rows."""
    return day.replace(day=1)
