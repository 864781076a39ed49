"""Figures over time: houses completed day by day (the burn-up chart), and the day each unit finished."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import case, func, select

from tracker.extensions import db
from tracker.households.models import HouseholdRevision, RevisionAssignment
from tracker.progress import kept
from tracker.progress.completions import counted_completions, kept_completions
from tracker.progress.context import ReportContext
from tracker.progress.counting import known_filter, set_units
from tracker.progress.pace import reached_on
from tracker.progress.rollup import parents
from tracker.progress.tallies import Unit

HR = HouseholdRevision
RA = RevisionAssignment


def completed_by_day(ctx: ReportContext, days: Sequence[date]) -> list[int]:
    """Houses completed on each of ``days``: the report's ``totals.completed`` for each date, in one query.

    For the burn-up chart. A household counts from the day it is both in the
    programme and completed (the later of its entry and completion dates)
    until the day it is withdrawn, the rules of :func:`household_states`.
    """
    entered = func.coalesce(HR.surveyed_on, HR.approved_on, HR.started_on, HR.completed_on, HR.handed_over_on)
    supported = func.coalesce(HR.completed_on, HR.handed_over_on)
    counted_from = case((entered > supported, entered), else_=supported)
    query = (
        select(counted_from, HR.withdrawn_on, func.count())
        .select_from(RA).join(HR, RA.revision_id == HR.id)
        .where(RA.boundary_set_id == ctx.boundary_set.id, known_filter(ctx.known_at), supported.is_not(None))
        .group_by(counted_from, HR.withdrawn_on)
    )
    if ctx.scope is not None:
        query = query.where(RA.commune_code.in_(sorted(ctx.scope)))
    spans = [(_day(start), _day(end), n) for start, end, n in db.session.execute(query)]
    return [sum(n for start, end, n in spans if start <= day and (end is None or end > day)) for day in days]


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
    deltas = (kept_completions if kept.covers(ctx) else counted_completions)(ctx, units)
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


def _day(value: date | str | None) -> date | None:
    """A date column read back (SQLite gives a computed date as text)."""
    return date.fromisoformat(value) if isinstance(value, str) else value

