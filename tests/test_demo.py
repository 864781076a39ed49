"""``flask demo load``: real boundaries when present, the synthetic province otherwise."""
from __future__ import annotations

from collections import Counter
from datetime import date

from flask import Flask
from sqlalchemy import func, select

from tests.helpers import real_file
from tracker.boundaries.models import AdminUnit, BoundarySet
from tracker.demo.load import load_demo, scale_rows
from tracker.extensions import db
from tracker.geo import sources
from tracker.households.models import Household, HouseholdRevision, RevisionAssignment
from tracker.plans.models import Plan, PlanRevision, PlanTarget

TODAY = date(2026, 11, 25)


def _plan_totals(number: int) -> tuple[int, int, int]:
    row = db.session.execute(
        select(func.sum(PlanTarget.new_build), func.sum(PlanTarget.repair), func.sum(PlanTarget.budget_vnd))
        .join(PlanRevision).where(PlanRevision.number == number)
    ).one()
    return tuple(int(v) for v in row)  # type: ignore[return-value]


def test_demo_on_real_son_la_boundaries(runner) -> None:
    real_file(sources.SON_LA_2024_COMMUNES)
    real_file(sources.SON_LA_2025_COMMUNES)
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC" not in result.output
    sets = dict(db.session.execute(select(BoundarySet.name, BoundarySet.synthetic)).all())
    assert sets == {"2024": False, "2025": False}
    assert _plan_totals(2) == (2_653, 405, 2_653 * 60_000_000 + 405 * 30_000_000)
    assert sum(_plan_totals(1)[:2]) == 2_893
    assert db.session.scalar(select(func.count()).select_from(Household)) == 3_058
    support = Counter(db.session.scalars(select(HouseholdRevision.support_type)))
    assert support == {"new_build": 2_653, "repair": 405}
    flags = Counter(db.session.scalars(
        select(RevisionAssignment.flag).join(BoundarySet).where(BoundarySet.name == "2024")
    ))
    assert flags[None] > 0.98 * 3_058  # realistic GPS: almost all clean
    assert flags["swapped_coordinates"] > 0 and flags["outside"] > 0


def test_demo_load_twice_changes_nothing(runner) -> None:
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    counts = [db.session.scalar(select(func.count()).select_from(m)) for m in (AdminUnit, PlanRevision, HouseholdRevision)]
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    assert "3058 unchanged" in second.output
    assert "quanly (manager)" in second.output
    assert [db.session.scalar(select(func.count()).select_from(m)) for m in (AdminUnit, PlanRevision, HouseholdRevision)] == counts


def test_demo_falls_back_to_a_labelled_synthetic_province(app: Flask, tmp_path) -> None:
    summary = load_demo(TODAY, env={"BOUNDARIES_DIR": str(tmp_path / "none")})
    db.session.commit()
    assert summary.synthetic
    boundary_set = db.session.scalar(select(BoundarySet))
    assert boundary_set.name == "synthetic" and boundary_set.synthetic
    codes = list(db.session.scalars(select(AdminUnit.code).where(AdminUnit.level == "commune")))
    assert codes and all(code.startswith("9") for code in codes)
    plan = db.session.scalar(select(Plan))
    assert plan.boundary_set_id == boundary_set.id
    assert db.session.scalar(select(func.count()).select_from(Household)) == 3_058
    assigned = db.session.scalar(
        select(func.count()).select_from(HouseholdRevision).join(RevisionAssignment)
        .where(RevisionAssignment.commune_code == HouseholdRevision.declared_commune)
    )
    assert assigned > 0.98 * 3_058


def test_scale_rows_keeps_exact_totals_and_mix() -> None:
    rows = [{"commune_code": str(i), "new_build": 7 + i, "repair": i % 3, "budget_vnd": 0} for i in range(40)]
    scaled = scale_rows(rows, 500)
    assert sum(r["new_build"] + r["repair"] for r in scaled) == 500
    assert all(r["budget_vnd"] == 60_000_000 * r["new_build"] + 30_000_000 * r["repair"] for r in scaled)
    assert all(s["new_build"] <= r["new_build"] and s["repair"] <= r["repair"] for s, r in zip(scaled, rows))
