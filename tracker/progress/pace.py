"""Deadline arithmetic for progress reports: pure Python, no Flask, no database.

Every figure here is derived from plain counts and dates, so reports, maps,
exports and the benchmark share one definition and the unit tests call it
directly.

Definitions (also in the README):

* ``percent_complete``: supported / planned × 100, **truncated** to two
  decimals (never rounded up, so 100.00 only ever means done). ``None`` when
  nothing is planned.
* ``days_left``: calendar days from ``as_of`` to the deadline; negative once
  the deadline has passed. ``None`` without a deadline.
* ``required_per_day``: houses still to finish / days left. ``0`` when
  nothing is left; ``None`` when houses are left and no day is (the deadline
  is today or past) or there is no deadline.
* ``achieved_per_day``: houses finished in the ``WINDOW_DAYS`` days ending on
  ``as_of`` (inclusive) / ``WINDOW_DAYS``.
* ``projected_finish``: ``as_of`` + remaining / achieved pace, rounded up to a
  whole day; ``as_of`` itself when nothing is left; ``None`` when houses are
  left and nothing was finished in the window (no pace, no projection), or
  when the projection falls after the year 9999 (a national plan with one
  house finished in the window).
* ``at_risk``: something is planned and left, and the projection is missing
  or falls after the deadline.
* ``finished_on``: the first day, on or before ``as_of``, on which the
  unit's completed count (the report's own figure as of that day, with what
  was known at ``known_at``) reached its plan (a finished unit reads by that
  day, not by a projection; see :func:`reached_on`);
  ``days_late``: days from the deadline to that day, ``0`` when on time;
  ``days_overdue``: for an unfinished unit after its deadline, days since
  the deadline. Each is ``None`` where it does not apply.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any, NamedTuple

import numpy as np

from sync.vocabulary import STAGES

WITHDRAWN = len(STAGES)  # where a household's dates (in the order of STATUSES) hold its withdrawal

WINDOW_DAYS = 14
PACE_DECIMALS = 2


class Pace(NamedTuple):
    percent_complete: float | None
    remaining: int
    days_left: int | None
    required_per_day: float | None
    achieved_per_day: float
    projected_finish: date | None
    at_risk: bool


def percent(done: int, planned: int) -> float | None:
    """``done`` as a percentage of ``planned``, truncated to two decimals."""
    if planned <= 0:
        return None
    hundredths = (max(done, 0) * 10_000) // planned  # exact integer truncation
    return hundredths / 100


def window_start(as_of: date, window_days: int = WINDOW_DAYS) -> date:
    """First day of the pace window that ends on ``as_of`` (inclusive)."""
    return as_of - timedelta(days=window_days - 1)


def pace(
    planned: int,
    supported: int,
    supported_in_window: int,
    as_of: date,
    deadline: date | None,
    window_days: int = WINDOW_DAYS,
) -> Pace:
    """The deadline figures of one unit (commune, district or province)."""
    if window_days <= 0:
        raise ValueError("window_days must be positive")
    remaining = max(planned - supported, 0)
    days_left = (deadline - as_of).days if deadline is not None else None
    if remaining == 0:
        required: float | None = 0.0
    elif days_left is None or days_left <= 0:
        required = None
    else:
        required = round(remaining / days_left, PACE_DECIMALS)
    achieved_raw = max(supported_in_window, 0) / window_days
    days_to_go = math.ceil(remaining / achieved_raw) if achieved_raw > 0 else None
    if remaining == 0:
        projected: date | None = as_of
    elif days_to_go is not None and days_to_go <= _days_to_the_last(as_of):
        projected = as_of + timedelta(days=days_to_go)
    else:
        projected = None
    at_risk = (
        planned > 0
        and remaining > 0
        and (projected is None or deadline is None or projected > deadline)
    )
    return Pace(
        percent_complete=percent(supported, planned),
        remaining=remaining,
        days_left=days_left,
        required_per_day=required,
        achieved_per_day=round(achieved_raw, PACE_DECIMALS),
        projected_finish=projected,
        at_risk=at_risk,
    )


class Paces(NamedTuple):
    """The figures of :class:`Pace` for many units, column by column (``days_left`` is the same for all)."""

    percent_complete: list[float | None]
    remaining: list[int]
    days_left: int | None
    required_per_day: list[float | None]
    achieved_per_day: list[float]
    projected_finish: list[date | None]
    at_risk: list[bool]


def paces(
    planned: Sequence[int], supported: Sequence[int], supported_in_window: Sequence[int], as_of: date,
    deadline: date | None, window_days: int = WINDOW_DAYS,
) -> Paces:
    """:func:`pace` for many units at once, figure for figure the same.

    A national report has 11,163 communes; worked out one by one in Python,
    their paces cost more than reading their sums. The arithmetic runs on
    arrays; each distinct value that :func:`round` or a date gives (a few
    hundred at most) is worked out once, in Python, so the results are
    exactly those of :func:`pace`.
    """
    if window_days <= 0:
        raise ValueError("window_days must be positive")
    plan = np.asarray(planned, dtype=np.int64)
    done = np.asarray(supported, dtype=np.int64)
    window = np.maximum(np.asarray(supported_in_window, dtype=np.int64), 0)
    remaining = np.maximum(plan - done, 0)
    days_left = (deadline - as_of).days if deadline is not None else None
    hundredths = np.maximum(done, 0) * 10_000 // np.maximum(plan, 1)
    percents = _where(plan > 0, (hundredths / 100).tolist())
    if days_left is None or days_left <= 0:
        required = [0.0 if r == 0 else None for r in remaining.tolist()]
    else:
        required = _each(remaining, lambda r: round(r / days_left, PACE_DECIMALS))
    achieved = _each(window, lambda w: round(w / window_days, PACE_DECIMALS))
    with np.errstate(divide="ignore", invalid="ignore"):
        days = np.ceil(remaining / (window / window_days))  # the same float operations as pace()
    days_to_go = np.where(remaining == 0, 0, np.where((window > 0) & (days <= _days_to_the_last(as_of)), days, -1))
    days_to_go = days_to_go.astype(np.int64)
    projected = _each(days_to_go, lambda d: None if d < 0 else as_of + timedelta(days=d))
    late = days_to_go < 0
    if deadline is not None:
        late |= days_to_go > (deadline - as_of).days
    else:
        late[:] = True
    at_risk = ((plan > 0) & (remaining > 0) & late).tolist()
    return Paces(percents, remaining.tolist(), days_left, required, achieved, projected, at_risk)


def _days_to_the_last(as_of: date) -> int:
    """How many days after ``as_of`` a date can still hold."""
    return (date.max - as_of).days


def _each(values: np.ndarray, make: Any) -> list[Any]:
    """``[make(v) for v in values]``, with ``make`` called once per distinct value."""
    distinct, index = np.unique(values, return_inverse=True)
    made = [make(int(v)) for v in distinct.tolist()]
    return [made[i] for i in index.tolist()]


def _where(condition: np.ndarray, values: list[Any]) -> list[Any]:
    return [v if c else None for c, v in zip(condition.tolist(), values)]


class Finish(NamedTuple):
    finished_on: date | None
    days_late: int | None
    days_overdue: int | None


def finish(planned: int, remaining: int, finished_on: date | None, as_of: date, deadline: date | None) -> Finish:
    """How a unit stands against its deadline once it has finished or the deadline has passed."""
    if planned <= 0:
        return Finish(None, None, None)
    if remaining == 0:
        late = max((finished_on - deadline).days, 0) if finished_on is not None and deadline is not None else None
        return Finish(finished_on, late, None)
    overdue = (as_of - deadline).days if deadline is not None and as_of > deadline else None
    return Finish(None, None, overdue)


def reached_on(deltas: Mapping[date, int], planned: int, as_of: date) -> date | None:
    """The first day on or before ``as_of`` on which the running sum of ``deltas`` reached ``planned``.

    ``deltas`` are a unit's completed count changes by day (a household
    counts from one day and may stop, when withdrawn, on a later one), so
    the running sum on a day is the unit's completed figure on that day. It
    may fall back below the plan later; the first day it reached it stands.
    None when it never did, or nothing is planned.
    """
    if planned <= 0:
        return None
    reached = 0
    for day in sorted(deltas):
        if day > as_of:
            break
        reached += deltas[day]
        if reached >= planned:
            return day
    return None


def status_on(dates: Sequence[date | None], as_of: date) -> str | None:
    """A household's status on ``as_of`` from its dates, in the order of ``STATUSES`` (``withdrawn`` last).

    The last stage reached by that day; ``withdrawn`` once withdrawn; None
    when its first dated stage is still to come (not yet in the programme);
    ``surveyed`` for a record with no date at all. The rules the roll-up's
    counts follow, so a map's dots and the households export agree with its
    figures. A plain loop: the export asks it once per household.
    """
    withdrawn = dates[WITHDRAWN]
    if withdrawn is not None and withdrawn <= as_of:
        return "withdrawn"
    entered = False
    for index in range(WITHDRAWN - 1, -1, -1):
        day = dates[index]
        if day is not None:
            if day <= as_of:
                return STAGES[index]
            entered = True
    return None if entered else "surveyed"
