"""Per-commune sums of a report: counted from the revisions by the database, or read from the kept tallies.

One ``GROUP BY`` over the household revisions known at ``known_at`` (joined
to their commune under the chosen boundary set) gives per-commune counts;
when the tallies the ledger keeps cover the report (:mod:`tracker.progress.kept`)
they are summed instead. Plan targets come from the revision in force on
``as_of``. The counting rules are those of :mod:`tracker.progress.service`.
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from threading import Lock
from typing import Any, NamedTuple

import numpy as np
from flask import current_app
from sqlalchemy import and_, case, func, or_, select

from sync.vocabulary import FUNDING_SOURCES
from tracker.boundaries.models import AdminUnit, BoundarySet
from tracker.extensions import db
from tracker.households.models import HouseholdRevision, RevisionAssignment
from tracker.plans.models import PlanRevision, PlanTarget
from tracker.progress import day_sums, kept
from tracker.progress.context import ReportContext
from tracker.progress.pace import WINDOW_DAYS, window_start
from tracker.progress.tallies import BUDGET, COUNTS, FUNDS, SLOT, WIDTH, Matrix, Tally, Unit, empty_tally

HR = HouseholdRevision
RA = RevisionAssignment
_UNITS_LOCK = Lock()


def known_filter(known_at: datetime) -> Any:
    """Revisions the server held at ``known_at`` (received, not yet superseded)."""
    return and_(HR.received_at <= known_at, or_(HR.superseded_at.is_(None), HR.superseded_at > known_at))


def _reached(column: Any, as_of: date) -> Any:
    return and_(column.is_not(None), column <= as_of)


def household_states(ctx: ReportContext, communes: Collection[str | None] | None = None) -> Any:
    """One row per household known at ``known_at``: its commune and its state on ``as_of``.

    Each date expression is computed once here; the outer query only sums.
    ``communes`` limits the rows to those communes (``None`` in it: the
    households no commune took).
    """
    as_of = ctx.as_of
    entered_on = func.coalesce(HR.surveyed_on, HR.approved_on, HR.started_on, HR.completed_on, HR.handed_over_on)
    withdrawn = _reached(HR.withdrawn_on, as_of)
    alive = and_(or_(entered_on.is_(None), entered_on <= as_of), ~withdrawn)
    query = (
        select(
            RA.commune_code.label("commune_code"),
            HR.support_type.label("support_type"),
            case((alive, 1), else_=0).label("alive"),
            case((withdrawn, 1), else_=0).label("withdrawn"),
            func.coalesce(HR.started_on, HR.completed_on, HR.handed_over_on).label("started_on"),
            func.coalesce(HR.completed_on, HR.handed_over_on).label("supported_on"),
            HR.handed_over_on.label("handed_over_on"),
            case((RA.needs_review.is_(True), 1), else_=0).label("needs_review"),
            *(getattr(HR, f"fund_{s}").label(f"fund_{s}") for s in FUNDING_SOURCES),
        )
        .select_from(RA)
        .join(HR, RA.revision_id == HR.id)
        .where(RA.boundary_set_id == ctx.boundary_set.id, known_filter(ctx.known_at))
    )
    if ctx.scope is not None:
        query = query.where(RA.commune_code.in_(sorted(ctx.scope)))
    if communes is not None:
        codes = sorted(c for c in communes if c is not None)
        query = query.where(or_(RA.commune_code.in_(codes), RA.commune_code.is_(None)) if None in communes
                            else RA.commune_code.in_(codes))
    return query.subquery("states")


def _count(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def commune_sums_query(ctx: ReportContext, communes: Collection[str | None] | None = None) -> Any:
    """Per commune, support type and alive (0/1): the counts of COUNTS and the funding sums.

    Rows with ``alive = 0`` (withdrawn by ``as_of``, or not yet in the
    programme) only contribute their ``withdrawn`` count.
    """
    states = household_states(ctx, communes)
    as_of, first_day = ctx.as_of, window_start(ctx.as_of, WINDOW_DAYS)
    c = states.c
    return (
        select(
            c.commune_code, c.support_type, c.alive,
            func.count().label("households"),
            _count(c.started_on <= as_of).label("started"),
            _count(c.supported_on <= as_of).label("completed"),
            _count(c.handed_over_on <= as_of).label("handed_over"),
            _count(and_(c.supported_on >= first_day, c.supported_on <= as_of)).label("in_window"),
            func.sum(c.withdrawn).label("withdrawn"),
            func.sum(c.needs_review).label("needs_review"),
            *(func.sum(getattr(c, f"fund_{s}")).label(s) for s in FUNDING_SOURCES),
        )
        .group_by(c.commune_code, c.support_type, c.alive)
    )


def commune_tallies(ctx: ReportContext, communes: Collection[str | None] | None = None) -> dict[str | None, Tally]:
    """Per commune code (None: unassigned) the sums of households and plan; only ``communes`` when given."""
    return commune_matrix(ctx, communes).as_dict()


def commune_matrix(ctx: ReportContext, communes: Collection[str | None] | None = None) -> Matrix:
    """:func:`commune_tallies` as arrays, as a whole report is built.

    The household sums come from the tallies the ledger keeps when they
    cover the report (:mod:`tracker.progress.kept`), else from the revisions.
    """
    matrix = day_sums.matrix(ctx, communes) if kept.covers(ctx) else Matrix.of(counted_tallies(ctx, communes))
    return _with_plan(ctx, communes, matrix) if ctx.revision is not None else matrix


def counted_tallies(ctx: ReportContext, communes: Collection[str | None] | None = None) -> dict[str | None, Tally]:
    """Per commune code (None: unassigned) the sums of households, counted from the revisions."""
    tallies: dict[str | None, Tally] = {}
    offsets = [SLOT[name] for name in COUNTS]
    withdrawn = SLOT["withdrawn"]
    for row in db.session.execute(commune_sums_query(ctx, communes)):
        code, kind, alive = row[0], 1 if row[1] == "repair" else 0, row[2]
        tally = tallies.get(code)
        if tally is None:
            tally = tallies[code] = empty_tally()
        values = row[3:3 + len(COUNTS)]
        if not alive:
            tally[withdrawn + kind] += int(values[COUNTS.index("withdrawn")] or 0)
            continue
        for offset, value in zip(offsets, values):
            tally[offset + kind] += int(value or 0)
        for i, value in enumerate(row[3 + len(COUNTS):]):
            tally[FUNDS + i] += int(value or 0)
    return tallies


def _with_plan(ctx: ReportContext, communes: Collection[str | None] | None, matrix: Matrix) -> Matrix:
    """``matrix`` with the plan's targets added, a row for each commune with a plan and no households yet."""
    assert ctx.revision is not None
    plan = plan_targets(ctx.revision)
    wanted = plan.codes
    if communes is not None or ctx.scope is not None:
        wanted = [c for c in (plan.codes if communes is None else dict.fromkeys(communes))  # each once
                  if c is not None and c in plan.index and (ctx.scope is None or c in ctx.scope)]
    index = {code: i for i, code in enumerate(matrix.codes)}
    added = [code for code in wanted if code not in index]
    index.update((code, i) for i, code in enumerate(added, len(matrix.codes)))
    values = np.zeros((len(index), WIDTH), dtype=np.int64)
    values[:len(matrix.codes)] = matrix.values
    at = np.fromiter(map(index.__getitem__, wanted), dtype=np.intp, count=len(wanted))
    targets = plan.values if wanted is plan.codes else plan.values[[plan.index[c] for c in wanted]]
    values[at, 0] += targets[:, 0]
    values[at, 1] += targets[:, 1]
    values[at, BUDGET] += targets[:, 2]
    return Matrix(matrix.codes + added, values)


class Targets(NamedTuple):
    """A plan revision's targets: the communes, and for each (new_build, repair, budget)."""

    codes: list[str]
    values: np.ndarray  # (len(codes), 3) int64
    index: dict[str, int]


PLAN_REVISIONS_KEPT = 8


def plan_targets(revision: PlanRevision) -> Targets:
    """The targets of a plan revision; kept per app (a revision's targets stay)."""
    key = (revision.id, revision.created_at, revision.change_seq)
    cache: dict[Any, Targets] = current_app.extensions.setdefault("plan_targets", {})
    found = cache.get(key)
    if found is None:
        table = PlanTarget.__table__
        rows = db.session.connection().execute(  # Core rows, fetched at once
            select(table.c.commune_code, table.c.new_build, table.c.repair, table.c.budget_vnd)
            .where(table.c.revision_id == revision.id).order_by(table.c.commune_code)).all()
        codes = [row[0] for row in rows]
        values = np.array([row[1:] for row in rows], dtype=np.int64).reshape(len(rows), 3)
        found = Targets(codes, values, {code: i for i, code in enumerate(codes)})
        with _UNITS_LOCK:
            while len(cache) >= PLAN_REVISIONS_KEPT:
                cache.pop(next(iter(cache)))
            cache[key] = found
    return found


def set_units(boundary_set: BoundarySet) -> dict[str, Unit]:
    """Every unit of the set by code (communes, districts, provinces), no geometry; cached per set version."""
    key = (boundary_set.id, boundary_set.version, boundary_set.checksum)
    cache = current_app.extensions.setdefault("progress_units", {})
    if key in cache:
        return cache[key]
    table = AdminUnit.__table__
    rows = db.session.connection().execute(  # Core rows, fetched at once: 11,163 communes for a national set
        select(table.c.code, table.c.name, table.c.level, table.c.parent_code)
        .where(table.c.boundary_set_id == boundary_set.id)
    ).all()
    units: dict[str, Unit] = {}
    for code, name, level, parent in rows:
        if level == "commune" or code not in units:
            units[code] = Unit(code, name, level, parent)
    with _UNITS_LOCK:
        cache.clear()  # one set version at a time is plenty
        cache[key] = units
    return units
