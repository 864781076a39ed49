"""A unit's sums as one flat list of ints, and the report row built from them.

Per support type (new_build, repair) the plan and each count of ``COUNTS``,
then the plan budget, the funding per source and the communes at risk. Flat
lists add up fast for thousands of communes, and subtract as easily, which
is what lets a roll-up be brought up to date commune by commune.
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

from sync.vocabulary import FUNDING_SOURCES
from tracker.progress.pace import pace

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


# Communes share their (planned, completed, in window) figures often: each pace is worked out once.
_pace = lru_cache(maxsize=1 << 16)(pace)


def build_row(code: str, name: str | None, level: str, parent: str | None, tally: Tally, when: Dated) -> dict[str, Any]:
    """One row of the report, with exactly the contract's field names."""
    t = tally
    figures = _pace(t[0] + t[1], t[_C] + t[_C + 1], t[_W] + t[_W + 1], when.as_of, when.deadline)
    funds = dict(zip(FUNDING_SOURCES, t[FUNDS:AT_RISK]))
    row = {
        "code": code,
        "name": name,
        "level": level,
        "parent_code": parent,
        "planned": {"new_build": t[0], "repair": t[1], "total": t[0] + t[1]},
        "started": {"new_build": t[_S], "repair": t[_S + 1], "total": t[_S] + t[_S + 1]},
        "completed": {"new_build": t[_C], "repair": t[_C + 1], "total": t[_C] + t[_C + 1]},
        "handed_over": {"new_build": t[_H], "repair": t[_H + 1], "total": t[_H] + t[_H + 1]},
        "withdrawn": t[_X] + t[_X + 1],
        "households": t[_N] + t[_N + 1],
        "needs_review": t[_R] + t[_R + 1],
        "percent_complete": figures.percent_complete,
        "funding": {"planned": t[BUDGET], "recorded": sum(funds.values()), "by_source": funds},
        "deadline": when.deadline,
        "days_left": figures.days_left,
        "remaining": figures.remaining,
        "required_per_day": figures.required_per_day,
        "achieved_per_day": figures.achieved_per_day,
        "projected_finish": figures.projected_finish,
        "at_risk": figures.at_risk,
    }
    if level != "commune":
        row["communes_at_risk"] = tally[AT_RISK]
    return row


def unassigned_summary(tally: Tally) -> dict[str, int]:
    """The households no commune took: how many, how many completed, how many to review."""
    return {name: tally[SLOT[name]] + tally[SLOT[name] + 1] for name in ("households", "completed", "needs_review")}
