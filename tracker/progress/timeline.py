"""Figures over time: houses completed day by day (the burn-up chart), and the day each unit finished."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import case, func, select

from tracker.extensions import db
from tracker.households.models import HouseholdRevision, RevisionAssignment
from tracker.progress.context import ReportContext
from tracker.progress.counting import household_states, known_filter, set_units
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
    than a projection: the first day its supported households, counted by
    the report's rules, reached the plan in force. ``rows`` may mix levels;
    the ``total`` row stands for every commune.
    """
    wanted = [r for r in rows if r["planned"]["total"] > 0 and r["remaining"] == 0]
    if not wanted:
        return {}
    units = set_units(ctx.boundary_set)
    groups = _members(units, {r["level"] for r in wanted})
    everything = any(r["level"] == "total" for r in wanted)
    # Only the communes of the finished units are counted (all of them for a finished total).
    needed = None if everything else {c for r in wanted for c in groups.get((r["level"], r["code"]), [r["code"]])}
    states = household_states(ctx, needed).c
    per_commune: dict[str, dict[date, int]] = {}
    for code, day, count in db.session.execute(
        select(states.commune_code, states.supported_on, func.count())
        .where(states.alive == 1, states.commune_code.is_not(None), states.supported_on <= ctx.as_of)
        .group_by(states.commune_code, states.supported_on)
    ):
        days = per_commune.setdefault(code, {})
        days[_day(day)] = days.get(_day(day), 0) + count  # type: ignore[index]
    found: dict[tuple[str, str], date] = {}
    for row in wanted:
        level, code = row["level"], row["code"]
        communes = per_commune.keys() if level == "total" else groups.get((level, code), [code])
        by_day: dict[date, int] = {}
        for commune in communes:
            for day, count in per_commune.get(commune, {}).items():
                by_day[day] = by_day.get(day, 0) + count
        reached = 0
        for day in sorted(by_day):
            reached += by_day[day]
            if reached >= row["planned"]["total"]:
                found[(level, code)] = day
                break
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

