"""Storing plan revisions after every row has been checked."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from tracker.boundaries.models import AdminUnit, BoundarySet
from tracker.extensions import db
from tracker.plans.models import Plan, PlanRevision, PlanTarget

TARGET_FIELDS = ("new_build", "repair", "budget_vnd")


class PlanRowsError(ValueError):
    """Rows that cannot be imported; ``problems`` holds (row number, message)."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        super().__init__(f"{len(problems)} bad plan rows")
        self.problems = problems


@dataclass
class RevisionResult:
    plan: Plan
    revision: PlanRevision
    status: str  # "created" | "unchanged"


MAX_VALUES = {"new_build": 1_000_000, "repair": 1_000_000, "budget_vnd": 10**15}


def _whole(value: Any, limit: int) -> int | None:
    """A whole number 0..limit from a cell, or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,19}", value.strip()):
        value = int(value.strip())
    if isinstance(value, int) and 0 <= value <= limit:
        return value
    return None


def _code(value: Any, known_codes: set[str]) -> str:
    """A commune code from a cell; spreadsheets drop leading zeros (3871 → 03871)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    code = str(value if value is not None else "").strip()
    if code.isdigit() and code not in known_codes and code.zfill(5) in known_codes and not isinstance(value, str):
        return code.zfill(5)
    return code


def check_rows(
    rows: Sequence[dict[str, Any]], known_codes: set[str], row_numbers: Sequence[int] | None = None
) -> list[dict[str, Any]]:
    """Clean rows, or PlanRowsError naming every bad row.

    Rows are numbered from 1, or by ``row_numbers`` (e.g. a file's own lines).
    """
    problems: list[tuple[int, str]] = []
    clean: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    numbers = row_numbers if row_numbers is not None else range(1, len(rows) + 1)
    for number, row in zip(numbers, rows):
        code = _code(row.get("commune_code"), known_codes)
        if not code:
            problems.append((number, "commune_code is missing"))
            continue
        if code not in known_codes:
            problems.append((number, f"commune {code} is not in the boundary set"))
        if code in seen:
            problems.append((number, f"commune {code} repeats row {seen[code]}"))
        seen.setdefault(code, number)
        values = {
            name: _whole(row.get(name) if row.get(name) not in (None, "") else 0, MAX_VALUES[name])
            for name in TARGET_FIELDS
        }
        for name, value in values.items():
            if value is None:
                problems.append((number, f"{name} must be a whole number from 0 to {MAX_VALUES[name]:,} "
                                         f"(got {row.get(name)!r})"))
        clean.append({"commune_code": code, **values})
    if problems:
        raise PlanRowsError(problems)
    return clean


def add_revision(
    name: str,
    boundary_set: BoundarySet,
    rows: Sequence[dict[str, Any]],
    *,
    deadline: date,
    effective: date,
    source_name: str = "",
    row_numbers: Sequence[int] | None = None,
) -> RevisionResult:
    """Store ``rows`` as the next revision of plan ``name``; the caller commits.

    A revision identical to the one already effective on the same date is not
    stored twice, so re-running an import changes nothing.
    """
    known = set(db.session.scalars(
        select(AdminUnit.code).where(AdminUnit.boundary_set_id == boundary_set.id, AdminUnit.level == "commune")
    ))
    if deadline < effective:
        raise PlanRowsError([(0, f"the deadline {deadline} is before the effective date {effective}")])
    clean = check_rows(rows, known, row_numbers)
    plan = db.session.scalar(select(Plan).where(Plan.name == name))
    if plan is None:
        plan = Plan(name=name, boundary_set_id=boundary_set.id)
        db.session.add(plan)
        db.session.flush()
    elif plan.boundary_set_id != boundary_set.id:
        raise PlanRowsError([(0, f"plan {name!r} belongs to another boundary set")])
    same = _same_revision(plan, clean, deadline, effective)
    if same is not None:
        return RevisionResult(plan, same, "unchanged")
    number = (db.session.scalar(select(func.max(PlanRevision.number)).where(PlanRevision.plan_id == plan.id)) or 0) + 1
    revision = PlanRevision(plan=plan, number=number, effective_date=effective, deadline=deadline,
                            source_name=source_name)
    revision.targets = [PlanTarget(**row) for row in clean]
    db.session.add(revision)
    db.session.flush()
    _carry_again(plan)
    return RevisionResult(plan, revision, "created")


def _carry_again(plan: Plan) -> None:
    """A revision on the old map reaches the plans carried from it (or nothing is stored)."""
    from tracker.plans.carry import CrosswalkError, carry_again

    try:
        carry_again(plan)
    except CrosswalkError as exc:
        raise PlanRowsError([(0, f"carrying to the other map: {problem}") for problem in exc.problems]) from None


def _same_revision(plan: Plan, clean: list[dict[str, Any]], deadline: date, effective: date) -> PlanRevision | None:
    wanted = sorted((r["commune_code"], r["new_build"], r["repair"], r["budget_vnd"]) for r in clean)
    for revision in plan.revisions:
        if revision.effective_date != effective or revision.deadline != deadline:
            continue
        have = sorted((t.commune_code, t.new_build, t.repair, t.budget_vnd) for t in revision.targets)
        if have == wanted:
            return revision
    return None


# --- reading plans -------------------------------------------------------


@dataclass
class RevisionTotals:
    communes: int = 0
    new_build: int = 0
    repair: int = 0
    budget_vnd: int = 0

    @property
    def total(self) -> int:
        return self.new_build + self.repair


def list_plans() -> list[Plan]:
    return list(db.session.scalars(select(Plan).order_by(Plan.created_at.desc(), Plan.id.desc())))


def get_plan(name: str) -> Plan | None:
    return db.session.scalar(select(Plan).where(Plan.name == name))


def default_plan(boundary_set: BoundarySet) -> Plan | None:
    """The most recently created plan on ``boundary_set``."""
    return db.session.scalar(
        select(Plan).where(Plan.boundary_set_id == boundary_set.id).order_by(Plan.created_at.desc(), Plan.id.desc())
    )


def revision_in_force(plan: Plan, as_of: date, known_at: datetime | None = None) -> PlanRevision | None:
    """The revision in force on ``as_of``, among those stored by ``known_at``.

    The latest effective date on or before ``as_of`` wins; of two revisions
    effective the same day, the later one (higher number).
    """
    query = select(PlanRevision).where(PlanRevision.plan_id == plan.id, PlanRevision.effective_date <= as_of)
    if known_at is not None:
        query = query.where(PlanRevision.created_at <= known_at)
    return db.session.scalar(query.order_by(PlanRevision.effective_date.desc(), PlanRevision.number.desc()).limit(1))


def _scoped(query: Any, scope: frozenset[str] | None) -> Any:
    return query if scope is None else query.where(PlanTarget.commune_code.in_(sorted(scope)))


def revision_totals(revision_ids: list[int], scope: frozenset[str] | None = None) -> dict[int, RevisionTotals]:
    """Totals per revision (only the communes in ``scope`` when given), by SQL."""
    if not revision_ids:
        return {}
    query = select(
        PlanTarget.revision_id, func.count(), func.coalesce(func.sum(PlanTarget.new_build), 0),
        func.coalesce(func.sum(PlanTarget.repair), 0), func.coalesce(func.sum(PlanTarget.budget_vnd), 0),
    ).where(PlanTarget.revision_id.in_(revision_ids)).group_by(PlanTarget.revision_id)
    totals = {rid: RevisionTotals() for rid in revision_ids}
    for rid, communes, new_build, repair, budget in db.session.execute(_scoped(query, scope)):
        totals[rid] = RevisionTotals(int(communes), int(new_build), int(repair), int(budget))
    return totals


def revision_targets(revision: PlanRevision, scope: frozenset[str] | None = None) -> list[dict[str, Any]]:
    """The revision's commune targets with the communes' names and districts."""
    plan = revision.plan
    query = (
        select(PlanTarget, AdminUnit.name, AdminUnit.parent_code)
        .outerjoin(AdminUnit, (AdminUnit.code == PlanTarget.commune_code)
                   & (AdminUnit.boundary_set_id == plan.boundary_set_id) & (AdminUnit.level == "commune"))
        .where(PlanTarget.revision_id == revision.id)
        .order_by(PlanTarget.commune_code)
    )
    return [
        {"commune_code": t.commune_code, "commune_name": name, "district_code": parent,
         "new_build": t.new_build, "repair": t.repair, "total": t.new_build + t.repair, "budget_vnd": t.budget_vnd}
        for t, name, parent in db.session.execute(_scoped(query, scope))
    ]
