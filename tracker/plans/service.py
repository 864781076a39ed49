"""Storing plan revisions after every row has been checked."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Sequence

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


def _whole(value: Any) -> int | None:
    """A non-negative whole number from a cell, or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer():
        return int(value) if value >= 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def check_rows(rows: Sequence[dict[str, Any]], known_codes: set[str]) -> list[dict[str, Any]]:
    """Clean rows, or PlanRowsError naming every bad row (numbered from 1)."""
    problems: list[tuple[int, str]] = []
    clean: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        code = str(row.get("commune_code") or "").strip()
        if not code:
            problems.append((number, "commune_code is missing"))
            continue
        if code not in known_codes:
            problems.append((number, f"commune {code} is not in the boundary set"))
        if code in seen:
            problems.append((number, f"commune {code} repeats row {seen[code]}"))
        seen.setdefault(code, number)
        values = {name: _whole(row.get(name, 0) if row.get(name) not in (None, "") else 0) for name in TARGET_FIELDS}
        for name, value in values.items():
            if value is None:
                problems.append((number, f"{name} must be a whole number ≥ 0 (got {row.get(name)!r})"))
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
) -> RevisionResult:
    """Store ``rows`` as the next revision of plan ``name``; the caller commits.

    A revision identical to the one already effective on the same date is not
    stored twice, so re-running an import changes nothing.
    """
    known = set(db.session.scalars(
        select(AdminUnit.code).where(AdminUnit.boundary_set_id == boundary_set.id, AdminUnit.level == "commune")
    ))
    clean = check_rows(rows, known)
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
    revision = PlanRevision(plan=plan, number=number, effective_date=effective, deadline=deadline, source_name=source_name)
    revision.targets = [PlanTarget(**row) for row in clean]
    db.session.add(revision)
    db.session.flush()
    return RevisionResult(plan, revision, "created")


def _same_revision(plan: Plan, clean: list[dict[str, Any]], deadline: date, effective: date) -> PlanRevision | None:
    wanted = sorted((r["commune_code"], r["new_build"], r["repair"], r["budget_vnd"]) for r in clean)
    for revision in plan.revisions:
        if revision.effective_date != effective or revision.deadline != deadline:
            continue
        have = sorted((t.commune_code, t.new_build, t.repair, t.budget_vnd) for t in revision.targets)
        if have == wanted:
            return revision
    return None
