"""Figures over time: houses completed day by day (the burn-up chart), and the day each unit finished."""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from itertools import accumulate
from typing import Any

from tracker.progress import kept
from tracker.progress.completions import Deltas, counted_completions, kept_completions
from tracker.progress.context import ReportContext
from tracker.progress.counting import set_units
from tracker.progress.pace import reached_on
from tracker.progress.rollup import parents
from tracker.progress.tallies import Unit


def completed_by_day(ctx: ReportContext, days: Sequence[date]) -> list[int]:
    """Houses completed on each of ``days``: the report's ``totals.completed`` for each date.

    For the burn-up chart: the running sum of the total's completed changes
    by day, from the same source as the finish days (the kept day rows when
    they cover the report, else the revisions; see
    :mod:`tracker.progress.completions`), so it leaves out the households no
    commune took, as the totals do. Counted from the revisions on every page
    view, the national chart took 300 to 400 ms.
    """
    if not days:
        return []
    key = ("total", "total")
    upto = replace(ctx, as_of=max(days))
    changes = sorted(_completions(upto, {key: None if ctx.scope is None else sorted(ctx.scope)})[key].items())
    running = list(accumulate(change for _, change in changes))
    changed_on = [day for day, _ in changes]
    return [running[at - 1] if (at := bisect_right(changed_on, day)) else 0 for day in days]


def _completions(ctx: ReportContext, units: dict[tuple[str, str], list[str] | None]) -> dict[tuple[str, str], Deltas]:
    """Each unit's completed changes by day up to ``as_of``, from the kept tallies when they cover the report."""
    return (kept_completions if kept.covers(ctx) else counted_completions)(ctx, units)


def finish_days(ctx: ReportContext, rows: Iterable[dict[str, Any]]) -> dict[tuple[str, str], date]:
    """The day each finished unit among ``rows`` reached its plan, by ``(level, code)``.

    A finished unit (planned, nothing left) shows the day it finished rather
    than a projection: the first day on or before ``as_of`` on which its
    completed figure, counted by the report's rules with what was known at
    ``known_at``, reached the plan in force (:func:`reached_on`). Only the
    communes of the finished units are read; ``rows`` may mix levels, the
    ``total`` row standing for every commune of the report. The day changes
    come from the kept tallies when they cover the report, else from the
    revisions (:mod:`tracker.progress.completions`).
    """
    wanted = [r for r in rows if r["planned"]["total"] > 0 and r["remaining"] == 0]
    if not wanted:
        return {}
    groups = _members(set_units(ctx.boundary_set), {r["level"] for r in wanted})
    units: dict[tuple[str, str], list[str] | None] = {}
    for row in wanted:
        key = (row["level"], row["code"])
        if row["level"] == "total":
            units[key] = None if ctx.scope is None else sorted(ctx.scope)
        else:
            communes = groups.get(key, [row["code"]])
            units[key] = communes if ctx.scope is None else [c for c in communes if c in ctx.scope]
    deltas = _completions(ctx, units)
    found = {}
    for row in wanted:
        key = (row["level"], row["code"])
        if (day := reached_on(deltas.get(key, {}), row["planned"]["total"], ctx.as_of)) is not None:
            found[key] = day
    return found


def _members(units: dict[str, Unit], levels: set[str]) -> dict[tuple[str, str], list[str]]:
    """``{(level, code): its communes}`` for the district and province levels among ``levels``."""
    groups: dict[tuple[str, str], list[str]] = {}
    if not levels & {"district", "province"}:
        return groups
    for code, unit in units.items():
        if unit.level != "commune":
            continue
        district, province = parents(unit, units)
        for level, parent in (("district", district), ("province", province)):
            if parent is not None and level in levels:
                groups.setdefault((level, parent), []).append(code)
    return groups

