"""What a report is about: the boundary set, plan revision, dates and scope, resolved from its arguments."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sync.vocabulary import today as today_vn
from tracker.boundaries.models import BoundarySet
from tracker.boundaries.service import get_set
from tracker.dbtypes import utcnow
from tracker.errors import ApiError
from tracker.extensions import db
from tracker.households import ledger
from tracker.plans.models import Plan, PlanRevision
from tracker.plans.service import default_plan, get_plan, revision_in_force


@dataclass
class ReportContext:
    """What a report is about, resolved from the query arguments."""

    boundary_set: BoundarySet
    plan: Plan | None
    revision: PlanRevision | None
    as_of: date
    known_at: datetime
    scope: frozenset[str] | None = None

    deadline: date | None = None
    # Whether the kept tallies give this report's counts, once asked (kept.covers): one answer per report,
    # which its figures, stored answer and finish days all follow.
    covered: bool | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.deadline = self.revision.deadline if self.revision else None

    def plan_ref(self) -> dict[str, Any] | None:
        if self.plan is None:
            return None
        rev = self.revision
        return {
            "name": self.plan.name,
            "revision": rev.number if rev else None,
            "effective_date": rev.effective_date if rev else None,
            "deadline": rev.deadline if rev else None,
        }


def resolve_set(set_name: str | None, as_of: date | None = None) -> BoundarySet:
    """The named boundary set, or the map in force on ``as_of`` (default today); ApiError when there is none."""
    from tracker.households.service import set_in_force

    if set_name is not None:
        boundary_set = get_set(set_name)
        if boundary_set is None:
            raise ApiError(404, f"No boundary set named {set_name!r}.", fields={"set": ["Unknown boundary set."]})
        return boundary_set
    boundary_set = set_in_force(as_of or today_vn())
    if boundary_set is None:
        raise ApiError(404, "No boundary set has been loaded yet.")
    return boundary_set


def resolve(
    as_of: date,
    known_at: datetime,
    set_name: str | None = None,
    plan_name: str | None = None,
    scope: frozenset[str] | None = None,
) -> ReportContext:
    """The set, plan and plan revision a report uses; ApiError when unknown."""
    plan = None
    if plan_name is not None:
        plan = get_plan(plan_name)
        if plan is None:
            raise ApiError(404, f"No plan named {plan_name!r}.", fields={"plan": ["Unknown plan."]})
    if set_name is None and plan is not None:
        boundary_set = db.session.get(BoundarySet, plan.boundary_set_id)
    else:
        boundary_set = resolve_set(set_name, as_of)
    assert boundary_set is not None
    if plan is None:
        plan = default_plan(boundary_set)
    elif plan.boundary_set_id != boundary_set.id:
        raise ApiError(422, f"Plan {plan.name!r} is not on boundary set {boundary_set.name!r}.",
                       fields={"plan": ["The plan belongs to another boundary set."]})
    revision = revision_in_force(plan, as_of, known_at) if plan is not None else None
    return ReportContext(boundary_set, plan, revision, as_of, known_at.astimezone(UTC), scope)


def context_from_args(args: dict[str, Any], scope: frozenset[str] | None) -> ReportContext:
    """A report context from parsed query arguments (defaults: today, now).

    With an explicit ``known_at`` the writes stamped by then are waited for
    first (``ledger.settle``), so the report can be taken again later with
    the same figures.
    """
    as_of = args.get("as_of") or today_vn()
    known_at = args.get("known_at")
    if known_at is not None:
        ledger.settle()
    return resolve(as_of, known_at or utcnow(), args.get("set_name"), args.get("plan"), scope)

