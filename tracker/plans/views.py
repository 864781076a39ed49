"""``GET /api/v1/plans`` and ``GET /api/v1/plans/<name>``."""
from __future__ import annotations

from typing import Any

from marshmallow import RAISE

from schemas.plans import PlanDetailSchema, PlanQueryArgs, PlanSchema
from tracker.accounts.auth import auth_required, principal
from tracker.api import Blueprint
from tracker.boundaries.models import BoundarySet
from tracker.errors import ApiError
from tracker.extensions import db
from tracker.plans import service
from tracker.plans.models import Plan, PlanRevision
from tracker.progress.service import today_vn

blp = Blueprint("plans", __name__, url_prefix="/api/v1/plans", description="Plans and their revisions")
BEARER = [{"bearerAuth": []}]


def _carried_from(rev: PlanRevision) -> dict[str, Any] | None:
    if rev.carried_from_id is None:
        return None
    source = db.session.get(PlanRevision, rev.carried_from_id)
    assert source is not None
    return {"plan": source.plan.name, "revision": source.number, "crosswalk": rev.crosswalk_id}


def _revision(rev: PlanRevision, totals: service.RevisionTotals) -> dict[str, Any]:
    return {
        "number": rev.number, "effective_date": rev.effective_date, "deadline": rev.deadline,
        "source_name": rev.source_name, "created_at": rev.created_at, "carried_from": _carried_from(rev),
        "totals": {"communes": totals.communes, "new_build": totals.new_build, "repair": totals.repair,
                   "total": totals.total, "budget_vnd": totals.budget_vnd},
    }


def _plan(plan: Plan, scope: frozenset[str] | None) -> dict[str, Any]:
    totals = service.revision_totals([r.id for r in plan.revisions], scope)
    in_force = service.revision_in_force(plan, today_vn())
    boundary_set = db.session.get(BoundarySet, plan.boundary_set_id)
    return {
        "name": plan.name,
        "boundary_set": boundary_set.name if boundary_set else "",
        "carried_from": db.session.get(Plan, plan.carried_from_id).name if plan.carried_from_id else None,
        "created_at": plan.created_at,
        "in_force": in_force.number if in_force else None,
        "revisions": [_revision(r, totals[r.id]) for r in sorted(plan.revisions, key=lambda r: r.number)],
    }


@blp.route("")
@blp.doc(security=BEARER)
@auth_required()
@blp.response(200, PlanSchema(many=True))
def list_plans() -> list[dict[str, Any]]:
    """Every plan with its revisions (totals over the caller's communes)."""
    scope = principal().commune_scope()
    return [_plan(plan, scope) for plan in service.list_plans()]


@blp.route("/<string:name>")
@blp.doc(security=BEARER)
@auth_required()
@blp.arguments(PlanQueryArgs, location="query", unknown=RAISE)
@blp.response(200, PlanDetailSchema)
def get_plan(args: dict[str, Any], name: str) -> dict[str, Any]:
    """One plan, with the targets of one revision: ``revision=N``, or the one in force ``as_of`` (default today)."""
    plan = service.get_plan(name)
    if plan is None:
        raise ApiError(404, f"No plan named {name!r}.")
    scope = principal().commune_scope()
    if "revision" in args:
        revision = next((r for r in plan.revisions if r.number == args["revision"]), None)
        if revision is None:
            raise ApiError(404, f"Plan {name!r} has no revision {args['revision']}.",
                           fields={"revision": ["No such revision."]})
    else:
        revision = service.revision_in_force(plan, args.get("as_of") or today_vn())
    body = _plan(plan, scope)
    if revision is None:
        return {**body, "revision": None, "targets": []}
    totals = service.revision_totals([revision.id], scope)[revision.id]
    return {**body, "revision": _revision(revision, totals), "targets": service.revision_targets(revision, scope)}
