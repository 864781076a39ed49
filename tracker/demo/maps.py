"""The demo's second map: the merged communes in force from 1 July 2025, with the plan carried onto them."""
from __future__ import annotations

from datetime import date

from tracker.boundaries.service import get_set
from tracker.crosswalks.service import current_crosswalk
from tracker.households.ledger import reassign_set
from tracker.plans.carry import carry_plan
from tracker.plans.service import get_plan

MERGER_DAY = date(2025, 7, 1)


def carry_to_new_map(plan_name: str, old: str = "2024", new: str = "2025") -> list[str]:
    """Date the new map and carry the plan to it (real boundaries only; nothing to do otherwise)."""
    old_set, new_set, plan = get_set(old), get_set(new), get_plan(plan_name)
    if old_set is None or new_set is None or plan is None or plan.boundary_set_id != old_set.id:
        return []
    new_set.in_force_from = MERGER_DAY
    current_crosswalk(old_set, new_set)
    reassign_set(new_set)  # the old codes the officers declared are now read through the crosswalk
    result = carry_plan(plan, new_set)
    return [f"carried to {new} (in force from {MERGER_DAY}) as {result.plan.name!r}: "
            f"{len(result.carried)} revision(s), {len(result.split)} split communes apportioned"]
