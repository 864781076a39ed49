"""The deltas of :mod:`tracker.progress.tally_events` for many revisions at once, summed per key.

Pure numpy (no Flask, no database): counting a set's tallies afresh after a
re-assignment is hundreds of thousands of revisions, which the per-revision
generator walks at a few microseconds per delta. Here each kind of delta is
one array operation over every revision, and the sums per (commune, support
type, day) and per month come from one ``np.unique``. The rules are those of
:func:`tracker.progress.tally_events.deltas` (tests hold the two equal).

Days are numpy ``datetime64[D]`` arrays with ``NaT`` for "no date".
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np

from tracker.progress.pace import WINDOW_DAYS
from tracker.progress.tally_events import ALWAYS, FUNDS, VALUES

_I = {name: i for i, name in enumerate(VALUES)}
_NEVER = np.iinfo(np.int64).max // 4  # "no date" as a day number past every real one
_STAGES = ("surveyed", "approved", "started", "completed", "handed_over")
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Summed:
    """Rows of summed deltas: ``group`` (the caller's key index), ``day`` (a date), ``values`` per VALUES."""

    group: np.ndarray
    day: list[date]
    values: np.ndarray


def _days(values: np.ndarray) -> np.ndarray:
    days = values.astype("datetime64[D]")
    out = days.astype(np.int64)
    out[np.isnat(days)] = _NEVER
    return out


def _first(*columns: np.ndarray) -> np.ndarray:
    out = columns[0].copy()
    for column in columns[1:]:
        out = np.where(out == _NEVER, column, out)
    return out


class _Events:
    def __init__(self, n: int):
        self.n = n
        self.rows: list[np.ndarray] = []
        self.days: list[np.ndarray] = []
        self.values: list[np.ndarray] = []

    def step(self, mask: np.ndarray, start: np.ndarray, end: np.ndarray, values: np.ndarray) -> None:
        """``values`` (n × len(VALUES)) on from ``start`` and off from ``end`` (never: stays on), where ``mask``."""
        rows = np.flatnonzero(mask)
        self.rows.append(rows)
        self.days.append(start[rows])
        self.values.append(values[rows])
        ends = rows[end[rows] != _NEVER]
        self.rows.append(ends)
        self.days.append(end[ends])
        self.values.append(-values[ends])


def tally_sums(group: np.ndarray, review: np.ndarray, dates: Mapping[str, np.ndarray], funds: np.ndarray) -> tuple[
        Summed, Summed]:
    """The day rows and the month rows of many revisions (each ``+1``).

    ``group`` is each revision's key index (commune and support type, the
    caller's), ``review`` its needs-review flag, ``dates`` the ``<stage>_on``
    columns (``surveyed_on`` … ``withdrawn_on``), ``funds`` (n × len(FUNDS))
    its funding per source in whole VND.
    """
    n = len(group)
    width = len(VALUES)
    stage = {s: _days(np.asarray(dates[f"{s}_on"])) for s in _STAGES + ("withdrawn",)}
    withdrawn = stage["withdrawn"]
    always = np.full(n, (ALWAYS - _EPOCH).days, dtype=np.int64)
    never = np.full(n, _NEVER, dtype=np.int64)
    entered = _first(*(stage[s] for s in _STAGES))
    entered = np.where(entered == _NEVER, always, entered)
    supported = _first(stage["completed"], stage["handed_over"])
    events = _Events(n)

    def one(name: str, amount: np.ndarray | int = 1) -> np.ndarray:
        values = np.zeros((n, width), dtype=np.int64)
        values[:, _I[name]] = amount
        return values

    events.step(np.ones(n, dtype=bool), always, never, one("present"))
    events.step(withdrawn != _NEVER, withdrawn, never, one("withdrawn"))
    alive = withdrawn > entered  # [entered, withdrawn) not empty (never withdrawn: always alive)
    living = one("households")
    living[:, _I["needs_review"]] = review.astype(np.int64)
    living[:, [_I[name] for name in FUNDS]] = funds
    events.step(alive, entered, withdrawn, living)
    for name, day in (("started", _first(stage["started"], stage["completed"], stage["handed_over"])),
                      ("completed", supported), ("handed_over", stage["handed_over"])):
        start = np.maximum(day, entered)
        events.step(alive & (day != _NEVER) & (withdrawn > start), start, withdrawn, one(name))
    window_end = np.where(supported == _NEVER, never, supported + WINDOW_DAYS)
    end = np.minimum(window_end, withdrawn)
    start = np.maximum(supported, entered)
    events.step(alive & (supported != _NEVER) & (end > start), start, end, one("in_window"))
    rows = np.concatenate(events.rows)
    days = np.concatenate(events.days)
    values = np.concatenate(events.values)
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return _summed(group[rows], days, values), _summed(group[rows], months, values)


def _summed(group: np.ndarray, days: np.ndarray, values: np.ndarray) -> Summed:
    if len(days) == 0:
        return Summed(np.zeros(0, dtype=np.int64), [], np.zeros((0, len(VALUES)), dtype=np.int64))
    low = int(days.min())
    span = int(days.max()) - low + 1
    keys, inverse = np.unique(group.astype(np.int64) * span + (days - low), return_inverse=True)
    sums = np.zeros((len(keys), values.shape[1]), dtype=np.int64)
    np.add.at(sums, inverse, values)
    keep = sums.any(axis=1)
    keys, sums = keys[keep], sums[keep]
    day_numbers = (keys % span + low).astype("datetime64[D]")
    return Summed(keys // span, day_numbers.astype(object).tolist(), sums)
