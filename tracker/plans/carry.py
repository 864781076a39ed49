"""Carrying a plan from one map to another as derived revisions.

A plan made on the old communes is carried to the new map through the
current crosswalk: each revision becomes a revision of a derived plan on the
new set, with the same effective date and deadline, saying which revision it
came from and through which crosswalk. A split commune's targets and budget
are apportioned by the households assigned under both maps (by area where it
has none), in whole houses and whole VND, each old commune's figures (so the
province's) preserved exactly (:func:`tracker.geo.crosswalk.carry`).

Carrying is idempotent: a revision already carried through the current
crosswalk is not carried twice; a revision added on the old map later, or a
new crosswalk (a set re-imported, an official list loaded), is carried again
by the next call, which :func:`tracker.plans.service.add_revision` makes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from tracker.boundaries.models import BoundarySet
from tracker.crosswalks.service import as_core, current_crosswalk, household_pairs
from tracker.extensions import db
from tracker.geo import crosswalk as core
from tracker.geo.crosswalk import CrosswalkError
from tracker.plans.models import Plan, PlanRevision, PlanTarget

__all__ = ["CarryResult", "CrosswalkError", "carry_again", "carry_plan", "carried_plan"]


@dataclass
class CarryResult:
    plan: Plan
    carried: list[PlanRevision] = field(default_factory=list)
    basis: dict[str, str] = field(default_factory=dict)  # old commune → whole | households | area

    @property
    def split(self) -> list[str]:
        return sorted(code for code, how in self.basis.items() if how != "whole")


def carried_plan(plan: Plan, to_set: BoundarySet) -> Plan | None:
    """The plan carried from ``plan`` to ``to_set``, if there is one."""
    return db.session.scalar(select(Plan).where(Plan.carried_from_id == plan.id, Plan.boundary_set_id == to_set.id))


def _derived_plan(plan: Plan, to_set: BoundarySet, name: str | None) -> Plan:
    derived = carried_plan(plan, to_set)
    if derived is not None:
        return derived
    name = (name or f"{plan.name} ({to_set.name})")[:100]
    if db.session.scalar(select(Plan.id).where(Plan.name == name)) is not None:
        raise CrosswalkError([f"a plan named {name!r} already exists; choose another name"])
    derived = Plan(name=name, boundary_set_id=to_set.id, carried_from_id=plan.id)
    db.session.add(derived)
    db.session.flush()
    return derived


def carry_plan(plan: Plan, to_set: BoundarySet, name: str | None = None) -> CarryResult:
    """Carry every revision of ``plan`` not yet carried through the current crosswalk; the caller commits.

    CrosswalkError (each problem named, nothing written) when the maps do
    not overlap or a planned commune overlaps no unit of ``to_set``.
    """
    from_set = db.session.get(BoundarySet, plan.boundary_set_id)
    assert from_set is not None
    if from_set.id == to_set.id:
        raise CrosswalkError([f"plan {plan.name!r} is already on boundary set {to_set.name}"])
    if plan.carried_from_id is not None:
        raise CrosswalkError([f"plan {plan.name!r} is itself carried; carry the plan it came from"])
    crosswalk = current_crosswalk(from_set, to_set)
    assert crosswalk is not None
    if not crosswalk.links:
        raise CrosswalkError([f"boundary sets {from_set.name} and {to_set.name} do not overlap"])
    weights, basis = core.carry_weights(as_core(crosswalk), household_pairs(from_set, to_set))
    pending = _pending(plan, to_set, crosswalk.id)
    carried = {rev.id: core.carry(_values(rev), weights) for rev in pending}  # every check before any write
    result = CarryResult(_derived_plan(plan, to_set, name))
    number = db.session.scalar(select(func.max(PlanRevision.number))
                               .where(PlanRevision.plan_id == result.plan.id)) or 0
    for rev in pending:
        number += 1
        derived = PlanRevision(
            plan=result.plan, number=number, effective_date=rev.effective_date, deadline=rev.deadline,
            source_name=f"carried from {plan.name} revision {rev.number} ({from_set.name} → {to_set.name})"[:300],
            carried_from_id=rev.id, crosswalk_id=crosswalk.id,
            # Known when the figures it re-expresses were known, so reports as known at a time agree on both maps.
            created_at=rev.created_at,
        )
        derived.targets = [PlanTarget(commune_code=code, new_build=nb, repair=rp, budget_vnd=budget)
                           for code, (nb, rp, budget) in sorted(carried[rev.id].items())]
        db.session.add(derived)
        result.carried.append(derived)
        codes = {t.commune_code for t in rev.targets}
        result.basis.update({code: how for code, how in basis.items() if code in codes})
    db.session.flush()
    return result


def _values(revision: PlanRevision) -> dict[str, list[int]]:
    return {t.commune_code: [t.new_build, t.repair, t.budget_vnd] for t in revision.targets}


def _pending(plan: Plan, to_set: BoundarySet, crosswalk_id: int) -> list[PlanRevision]:
    """The plan's revisions with no derived revision through this crosswalk yet, by number."""
    done = set(db.session.scalars(
        select(PlanRevision.carried_from_id).join(Plan, Plan.id == PlanRevision.plan_id)
        .where(Plan.carried_from_id == plan.id, Plan.boundary_set_id == to_set.id,
               PlanRevision.crosswalk_id == crosswalk_id)
    ))
    return [rev for rev in sorted(plan.revisions, key=lambda r: r.number) if rev.id not in done]


def carry_again(plan: Plan) -> list[CarryResult]:
    """Bring every plan carried from ``plan`` up to date (after a new revision of it)."""
    derived = db.session.scalars(select(Plan).where(Plan.carried_from_id == plan.id)).all()
    return [carry_plan(plan, db.session.get(BoundarySet, d.boundary_set_id)) for d in derived]  # type: ignore[arg-type]
