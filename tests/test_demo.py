"""``flask demo load``: real boundaries when present, the synthetic province otherwise."""
from __future__ import annotations

from collections import Counter
from datetime import date

from flask import Flask
from sqlalchemy import func, select

from tests.helpers import real_file
from tests.progress_builders import bearer
from tests.test_web import sign_in
from tracker.boundaries.models import AdminUnit, BoundarySet
from tracker.demo.load import PLAN_NAME, load_demo, scale_rows
from tracker.extensions import db
from tracker.geo import sources
from tracker.households.models import Household, HouseholdRevision, RevisionAssignment
from tracker.plans.models import Plan, PlanRevision, PlanTarget

TODAY = date(2026, 11, 25)


def _plan_totals(number: int, plan: str = PLAN_NAME) -> tuple[int, int, int]:
    row = db.session.execute(
        select(func.sum(PlanTarget.new_build), func.sum(PlanTarget.repair), func.sum(PlanTarget.budget_vnd))
        .join(PlanRevision).join(Plan).where(PlanRevision.number == number, Plan.name == plan)
    ).one()
    return tuple(int(v) for v in row)  # type: ignore[return-value]


def test_demo_on_real_son_la_boundaries(runner, client) -> None:
    real_file(sources.SON_LA_2024_COMMUNES)
    real_file(sources.SON_LA_2025_COMMUNES)
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC" not in result.output
    sets = dict(db.session.execute(select(BoundarySet.name, BoundarySet.synthetic)).all())
    assert sets == {"2024": False, "2025": False}
    assert _plan_totals(3) == (2_653, 405, 2_653 * 60_000_000 + 405 * 30_000_000)
    assert sum(_plan_totals(1)[:2]) == 2_887 and sum(_plan_totals(2)[:2]) == 2_893
    assert _plan_totals(3, f"{PLAN_NAME} (2025)") == _plan_totals(3)  # carried to the merged communes
    assert sum(_plan_totals(2, f"{PLAN_NAME} (2025)")[:2]) == 2_893
    assert db.session.scalar(select(func.count()).select_from(Household)) == 3_058
    support = Counter(db.session.scalars(select(HouseholdRevision.support_type)))
    assert support == {"new_build": 2_653, "repair": 405}
    flags = Counter(db.session.scalars(
        select(RevisionAssignment.flag).join(BoundarySet).where(BoundarySet.name == "2024")
    ))
    assert flags[None] > 0.98 * 3_058  # realistic GPS: almost all clean
    assert flags["swapped_coordinates"] > 0 and flags["outside"] > 0
    # The same figures on both maps at every date: the plan carried, old declared codes read through the crosswalk.
    headers = bearer()
    for as_of in ("2025-03-31", "2025-04-16", "2025-05-19", "2025-12-31"):
        totals = {name: client.get(f"/api/v1/progress?level=province&as_of={as_of}&set={name}",
                                   headers=headers).get_json()["totals"] for name in ("2024", "2025")}
        for figure in ("planned", "completed", "started", "funding", "percent_complete"):
            assert totals["2024"][figure] == totals["2025"][figure], (as_of, figure)
    assert totals["2025"]["planned"]["total"] == 3_058 and totals["2025"]["completed"]["total"] > 2_900
    default = client.get("/api/v1/progress?level=province&as_of=2025-04-16", headers=headers).get_json()
    assert default["boundary_set"] == "2024"
    later = client.get("/api/v1/progress?level=province&as_of=2025-08-01", headers=headers).get_json()
    assert later["boundary_set"] == "2025" and later["plan"]["name"] == f"{PLAN_NAME} (2025)"
    _reported_figures(client)


def _province(client, as_of: str) -> dict:
    answer = client.get(f"/api/v1/progress?level=province&set=2024&as_of={as_of}", headers=bearer("manager"))
    assert answer.status_code == 200, answer.json
    return answer.json["totals"]


def _reported_figures(client) -> None:
    """Sơn La's figures as the province reported them (DESIGN.md, "Making the demo real")."""
    march = _province(client, "2025-03-31")
    assert march["planned"]["total"] == 2_887 and march["started"]["total"] == 2_337  # 550 left
    april = _province(client, "2025-04-16")
    assert april["planned"]["total"] == 2_893 and april["completed"]["total"] == 2_553
    assert april["percent_complete"] == 88.24
    final = _province(client, "2025-12-31")
    assert final["planned"] == {"new_build": 2_653, "repair": 405, "total": 3_058}
    assert final["completed"] == final["planned"] and final["percent_complete"] == 100.0
    last = db.session.scalar(select(func.max(HouseholdRevision.completed_on)))
    late = (last - date(2025, 5, 19)).days
    sign_in(client)
    page = client.get("/?set=2024&as_of=2025-12-31").get_data(as_text=True)
    figures = page.split('class="figures"')[1].split("</section>")[0]
    assert f"hoàn thành ngày {last:%d/%m/%Y}, chậm {late} ngày" in figures and "19/05/2025" in figures
    history = page.split('id="history"')[1].split("</section>")[0].replace("\xa0", " ")
    assert "Sơn La 2020–2024" in history and "9.317 nhà, hỗ trợ 441.287.000.000 ₫" in history


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
