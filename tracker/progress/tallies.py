"""A unit's sums as one flat list of ints, and the report row built from them.

Per support type (new_build, repair) the plan and each count of ``COUNTS``,
then the plan budget, the funding per source and the communes at risk. Flat
lists add up fast for thousands of communes, and subtract as easily, which
is what lets a roll-up be brought up to date commune by commune.
"""
from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from operator import add
from typing import Any, NamedTuple, Protocol

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


_S, _C, _H, _W, _X, _N, _R = (SLOT[n] for n in ("started", "completed", "handed_over", "in_window", "withdrawn",
                                                  "households", "needs_review"))


def build_rows(codes: Sequence[str], names: Sequence[str | None], level: str, parents: Sequence[str | None],
               tallies: Sequence[Tally], when: Dated) -> list[dict[str, Any]]:
    """The report rows of many units of one level, with exactly the contract's field names.

    The pace figures are worked out for all of them at once (:func:`~tracker.progress.pace.paces`).
    """
    columns = list(zip(*tallies)) if tallies else [()] * WIDTH
    planned = list(map(add, columns[0], columns[1]))
    figures = paces(planned, list(map(add, columns[_C], columns[_C + 1])),
                    list(map(add, columns[_W], columns[_W + 1])), when.as_of, when.deadline)
    deadline, days_left = when.deadline, figures.days_left
    rows = []
    for i, (code, name, parent, t) in enumerate(zip(codes, names, parents, tallies)):
        s0, s1, c0, c1, h0, h1 = t[_S], t[_S + 1], t[_C], t[_C + 1], t[_H], t[_H + 1]
        funds = t[FUNDS:AT_RISK]
        row = {
            "code": code,
            "name": name,
            "level": level,
            "parent_code": parent,
            "planned": {"new_build": t[0], "repair": t[1], "total": planned[i]},
            "started": {"new_build": s0, "repair": s1, "total": s0 + s1},
            "completed": {"new_build": c0, "repair": c1, "total": c0 + c1},
            "handed_over": {"new_build": h0, "repair": h1, "total": h0 + h1},
            "withdrawn": t[_X] + t[_X + 1],
            "households": t[_N] + t[_N + 1],
            "needs_review": t[_R] + t[_R + 1],
            "percent_complete": figures.percent_complete[i],
            "funding": {"planned": t[BUDGET], "recorded": sum(funds), "by_source": dict(zip(FUNDING_SOURCES, funds))},
            "deadline": deadline,
            "days_left": days_left,
            "remaining": figures.remaining[i],
            "required_per_day": figures.required_per_day[i],
            "achieved_per_day": figures.achieved_per_day[i],
            "projected_finish": figures.projected_finish[i],
            "at_risk": figures.at_risk[i],
        }
        if level != "commune":
            row["communes_at_risk"] = t[AT_RISK]
        rows.append(row)
    return rows


def build_row(code: str, name: str | None, level: str, parent: str | None, tally: Tally, when: Dated) -> dict[str, Any]:
    """One row of the report (:func:`build_rows` of one unit)."""
    return build_rows([code], [name], level, [parent], [tally], when)[0]


def unassigned_summary(tally: Tally) -> dict[str, int]:
    """The households no commune took: how many, how many completed, how many to review."""
    return {name: tally[SLOT[name]] + tally[SLOT[name] + 1] for name in ("households", "completed", "needs_review")}
