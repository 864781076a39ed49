"""A unit's sums as one flat list of ints, and the report row built from them.

Per support type (new_build, repair) the plan and each count of ``COUNTS``,
then the plan budget, the funding per source and the communes at risk. Flat
lists add up fast for thousands of communes, and subtract as easily, which
is what lets a roll-up be brought up to date commune by commune.
"""
from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any, NamedTuple, Protocol

import numpy as np

from sync.vocabulary import FUNDING_SOURCES
from tracker.progress.pace import paces

COUNTS = ("households", "started", "completed", "handed_over", "in_window", "withdrawn", "needs_review")
SLOTS = ("planned",) + COUNTS
SLOT = {name: 2 * i for i, name in enumerate(SLOTS)}
BUDGET = 2 * len(SLOTS)
FUNDS = BUDGET + 1
AT_RISK = FUNDS + len(FUNDING_SOURCES)
WIDTH = AT_RISK + 1
Tally = list[int]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while thousands of rows are built.

    Building a national report's 11,163 rows allocates some 100,000 dicts
    and lists, none in a cycle; meanwhile the collector would walk the whole
    heap of a worker several times, which cost more than the rows themselves.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def empty_tally() -> Tally:
    return [0] * WIDTH


def add_into(target: Tally, other: Tally, sign: int = 1) -> None:
    """``target += sign * other``, element by element."""
    for i, value in enumerate(other):
        if value:
            target[i] += sign * value


class Unit(NamedTuple):
    """A unit of the set, no geometry (a tuple: a national set has 11,163 communes to load per worker)."""

    code: str
    name: str
    level: str
    parent_code: str | None


class Dated(Protocol):
    """What a row's pace figures need besides the counts (a report context has both)."""

    as_of: date
    deadline: date | None


# build_rows names each funding source in its rows' literal: a seventh source fails here, at import.
_F0, _F1, _F2, _F3, _F4, _F5 = FUNDING_SOURCES
_S, _C, _H, _W, _X, _N, _R = (SLOT[n] for n in ("started", "completed", "handed_over", "in_window", "withdrawn",
                                                  "households", "needs_review"))


class Matrix(NamedTuple):
    """Many units' tallies at once: their codes (None: the households no commune took) and one row each."""

    codes: list[str | None]
    values: np.ndarray  # (len(codes), WIDTH) int64

    @classmethod
    def of(cls, tallies: Mapping[str | None, Tally]) -> Matrix:
        return cls(list(tallies), np.array(list(tallies.values()), dtype=np.int64).reshape(len(tallies), WIDTH))

    def as_dict(self) -> dict[str | None, Tally]:
        return dict(zip(self.codes, self.values.tolist()))


def build_rows(codes: Sequence[str], names: Sequence[str | None], level: str, parents: Sequence[str | None],
               tallies: Sequence[Tally] | np.ndarray, when: Dated) -> list[dict[str, Any]]:
    """The report rows of many units of one level, with exactly the contract's field names.

    Every figure is worked out column by column on arrays (the pace figures by
    :func:`~tracker.progress.pace.paces`); the loop only puts each unit's
    values in its row: a national report has 11,163.
    """
    t = np.asarray(tallies, dtype=np.int64).reshape(len(codes), WIDTH)

    def total(slot: int) -> list[int]:
        return (t[:, slot] + t[:, slot + 1]).tolist()

    def both(slot: int) -> tuple[list[int], list[int], list[int]]:
        return t[:, slot].tolist(), t[:, slot + 1].tolist(), total(slot)

    p0, p1, planned = both(0)
    s0, s1, started = both(_S)
    c0, c1, completed = both(_C)
    h0, h1, handed = both(_H)
    figures = paces(planned, completed, total(_W), when.as_of, when.deadline)
    funds = t[:, FUNDS:AT_RISK]
    deadline, days_left = when.deadline, figures.days_left
    columns = zip(codes, names, parents, p0, p1, planned, s0, s1, started, c0, c1, completed, h0, h1, handed,
                  total(_X), total(_N), total(_R), figures.percent_complete, t[:, BUDGET].tolist(),
                  funds.sum(axis=1).tolist(), *(funds[:, i].tolist() for i in range(len(FUNDING_SOURCES))),
                  figures.remaining, figures.required_per_day, figures.achieved_per_day, figures.projected_finish,
                  figures.at_risk)
    rows = [{
        "code": code,
        "name": name,
        "level": level,
        "parent_code": parent,
        "planned": {"new_build": a0, "repair": a1, "total": a},
        "started": {"new_build": b0, "repair": b1, "total": b},
        "completed": {"new_build": d0, "repair": d1, "total": d},
        "handed_over": {"new_build": e0, "repair": e1, "total": e},
        "withdrawn": withdrawn,
        "households": households,
        "needs_review": review,
        "percent_complete": percent,
        "funding": {"planned": budget, "recorded": recorded,
                    "by_source": {_F0: g0, _F1: g1, _F2: g2, _F3: g3, _F4: g4, _F5: g5}},
        "deadline": deadline,
        "days_left": days_left,
        "remaining": remaining,
        "required_per_day": required,
        "achieved_per_day": achieved,
        "projected_finish": projected,
        "at_risk": at_risk,
        "finished_on": None,  # the finish figures: see tracker.progress.finish (most units have none)
        "days_late": None,
        "days_overdue": None,
    } for (code, name, parent, a0, a1, a, b0, b1, b, d0, d1, d, e0, e1, e, withdrawn, households, review, percent,
           budget, recorded, g0, g1, g2, g3, g4, g5, remaining, required, achieved, projected, at_risk)
          in columns]
    if level != "commune":  # a commune is at risk or not; a larger unit counts its communes at risk
        for row, communes_at_risk in zip(rows, t[:, AT_RISK].tolist()):
            row["communes_at_risk"] = communes_at_risk
    return rows


def build_row(code: str, name: str | None, level: str, parent: str | None, tally: Tally, when: Dated) -> dict[str, Any]:
    """One row of the report (:func:`build_rows` of one unit)."""
    return build_rows([code], [name], level, [parent], [tally], when)[0]


def unassigned_summary(tally: Tally) -> dict[str, int]:
    """The households no commune took: how many, how many completed, how many to review."""
    return {name: tally[SLOT[name]] + tally[SLOT[name] + 1] for name in ("households", "completed", "needs_review")}
