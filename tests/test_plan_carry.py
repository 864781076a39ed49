"""A plan made on the old map carried to the new one, and reports on both maps."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import shapely
from sqlalchemy import func, select

from tests.helpers import feature, json_error, square, write_collection
from tests.maps_builders import TwoMaps, load_two_maps
from tests.progress_builders import at, bearer, record, store
from tracker.boundaries.service import get_set, import_boundary_set, unit_shapes
from tracker.crosswalks.service import current_crosswalk
from tracker.extensions import db
from tracker.plans.models import Plan, PlanRevision, PlanTarget
from tracker.plans.service import add_revision, get_plan

PLAN = "Kế hoạch 2025"


def _rows(maps: TwoMaps, scale: int = 1) -> list[dict[str, int | str]]:
    """A plan on every old commune: a few houses each, budgets with odd VND."""
    codes = [code for code, _, _ in unit_shapes(maps.old)]
    return [{"commune_code": code, "new_build": (i % 7 + 1) * scale, "repair": i % 3,
             "budget_vnd": 60_000_000 * (i % 7 + 1) * scale + 30_000_000 * (i % 3) + i} for i, code in enumerate(codes)]


def _plan(maps: TwoMaps, rows: list[dict[str, int | str]], effective: date) -> None:
    add_revision(PLAN, maps.old, rows, deadline=date(2025, 5, 19), effective=effective, source_name="test")
    db.session.commit()


def _totals(revision_id: int) -> tuple[int, int, int]:
    return tuple(int(v) for v in db.session.execute(
        select(func.sum(PlanTarget.new_build), func.sum(PlanTarget.repair), func.sum(PlanTarget.budget_vnd))
        .where(PlanTarget.revision_id == revision_id)).one())


def _split_commune(maps: TwoMaps) -> tuple[str, dict[str, float]]:
    crosswalk = current_crosswalk(maps.old, maps.new)
    parts: dict[str, dict[str, float]] = {}
    for link in crosswalk.links:
        parts.setdefault(link.old_code, {})[link.new_code] = link.share
    split = [c for c, p in parts.items() if len(p) > 1]
    if not split:  # the synthetic stand-in merges whole communes: no commune is split
        pytest.skip("no split commune without the real Sơn La sets in BOUNDARIES_DIR")
    code = min(split, key=lambda c: (-len(parts[c]), c))
    return code, parts[code]


def test_carried_plan_keeps_every_total_and_says_where_it_came_from(runner, client, tmp_path: Path) -> None:
    maps = load_two_maps(tmp_path)
    rows = _rows(maps)
    _plan(maps, rows, date(2025, 1, 1))
    result = runner.invoke(args=["plans", "carry", PLAN, "--to", "2025"])
    assert result.exit_code == 0, result.output
    assert f"plan {PLAN} → {PLAN} (2025) on 2025: 1 revision(s) carried" in result.output
    derived = get_plan(f"{PLAN} (2025)")
    source_revision = get_plan(PLAN).revisions[0]
    [carried] = derived.revisions
    assert _totals(carried.id) == _totals(source_revision.id)
    new_codes = {code for code, _, _ in unit_shapes(maps.new)}
    assert {t.commune_code for t in carried.targets} <= new_codes
    assert (carried.effective_date, carried.deadline, carried.created_at) == (
        source_revision.effective_date, source_revision.deadline, source_revision.created_at)

    body = client.get(f"/api/v1/plans/{derived.name}?revision=1", headers=bearer()).get_json()
    assert body["boundary_set"] == "2025" and body["carried_from"] == PLAN
    assert body["revision"]["carried_from"]["plan"] == PLAN and body["revision"]["carried_from"]["revision"] == 1
    assert body["revision"]["totals"]["total"] == sum(r["new_build"] + r["repair"] for r in rows)

    again = runner.invoke(args=["plans", "carry", PLAN, "--to", "2025"])
    assert "0 revision(s) carried (already up to date)" in again.output
    assert db.session.scalar(select(func.count()).select_from(PlanRevision)) == 2


def test_a_split_commune_goes_where_its_households_are_and_by_area_without_them(app, tmp_path: Path) -> None:
    maps = load_two_maps(tmp_path)
    code, parts = _split_commune(maps)
    old_geom = {c: g for c, _, g in unit_shapes(maps.old)}[code]
    new_geoms = {c: g for c, _, g in unit_shapes(maps.new)}
    rows = [{"commune_code": code, "new_build": 10, "repair": 3, "budget_vnd": 690_000_001}]
    _plan(maps, rows, date(2025, 1, 1))
    from tracker.plans.carry import carry_plan

    by_area = carry_plan(get_plan(PLAN), maps.new)
    assert by_area.basis[code] == "area"
    targets = {t.commune_code: (t.new_build, t.repair, t.budget_vnd) for t in by_area.carried[0].targets}
    assert set(targets) == set(parts)
    assert [sum(v[i] for v in targets.values()) for i in range(3)] == [10, 3, 690_000_001]
    largest = max(parts, key=parts.get)
    assert targets[largest][0] == max(v[0] for v in targets.values())
    db.session.commit()

    # Households in the smaller part only: a new revision on the old map is carried again, by households.
    smallest = min(parts, key=parts.get)
    spot = shapely.intersection(old_geom, new_geoms[smallest]).buffer(-0.002).representative_point()
    store([record("90001", lat=spot.y, lon=spot.x, declared=code) for _ in range(3)], at("2025-02-01 09:00"))
    _plan(maps, [{**rows[0], "new_build": 11}], date(2025, 3, 1))
    derived = get_plan(f"{PLAN} (2025)")
    assert [r.number for r in derived.revisions] == [1, 2]
    second = {t.commune_code: (t.new_build, t.repair, t.budget_vnd) for t in derived.revisions[-1].targets}
    assert second[smallest] == (11, 3, 690_000_001)
    assert all(v == (0, 0, 0) for c, v in second.items() if c != smallest)
    assert derived.revisions[-1].source_name == f"carried from {PLAN} revision 2 (2024 → 2025)"


def test_a_carry_with_no_overlap_is_refused_and_nothing_written(runner, tmp_path: Path) -> None:
    maps = load_two_maps(tmp_path)
    far = write_collection(tmp_path / "far.geojson", [
        feature("80001", "Xã Xa", square(10.0, 10.0, 0.1), province="Tỉnh Xa"),
        feature("80002", "Xã Xa Hai", square(10.1, 10.0, 0.1), province="Tỉnh Xa"),
    ])
    import_boundary_set("far", far)
    add_revision("Xa", get_set("far"), [{"commune_code": "80001", "new_build": 1, "repair": 0, "budget_vnd": 0}],
                 deadline=date(2025, 5, 19), effective=date(2025, 1, 1))
    db.session.commit()
    result = runner.invoke(args=["plans", "carry", "Xa", "--to", maps.new.name])
    assert result.exit_code == 1
    assert "nothing carried, 1 problem(s)" in result.output
    assert "boundary sets far and 2025 do not overlap" in result.output
    assert db.session.scalar(select(func.count()).select_from(Plan)) == 1
    assert db.session.scalar(select(func.count()).select_from(PlanRevision)) == 1


def _spots(maps: TwoMaps, count: int) -> list[tuple[str, float, float]]:
    """Points well inside old communes (and so inside the province on both maps), spread over all of them."""
    shapes = unit_shapes(maps.old)
    spots = []
    for i in range(count):
        code, _, geom = shapes[(i * 7) % len(shapes)]
        point = geom.buffer(-0.003).representative_point() if not geom.buffer(-0.003).is_empty else \
            geom.representative_point()
        spots.append((code, point.y, point.x))
    return spots


def test_province_totals_are_identical_on_both_maps_at_every_date(client, runner, tmp_path: Path) -> None:
    maps = load_two_maps(tmp_path)
    maps.new.in_force_from = date(2025, 7, 1)
    db.session.commit()
    rows = _rows(maps)
    _plan(maps, rows, date(2025, 1, 1))
    _plan(maps, _rows(maps, scale=2), date(2025, 4, 20))
    records = []
    for i, (code, lat, lon) in enumerate(_spots(maps, 60)):
        completed = f"2025-0{3 + i % 4}-{10 + i % 15:02d}"
        records.append(record("90001", lat=lat, lon=lon, declared=code, support_type="repair" if i % 4 else
                              "new_build", dates={"approved": "2025-01-20", "started": "2025-02-10",
                                                  "completed": completed}))
    store(records, at("2025-02-01 09:00"))
    assert runner.invoke(args=["plans", "carry", PLAN, "--to", "2025"]).exit_code == 0
    headers = bearer()
    for as_of in ("2025-03-31", "2025-04-16", "2025-05-19", "2025-09-30"):
        reports = {name: client.get(f"/api/v1/progress?level=province&as_of={as_of}&set={name}",
                                    headers=headers).get_json() for name in ("2024", "2025")}
        old, new = reports["2024"]["totals"], reports["2025"]["totals"]
        for figure in ("planned", "started", "completed", "funding", "households", "remaining", "percent_complete"):
            assert old[figure] == new[figure], (as_of, figure)
        assert reports["2025"]["plan"]["name"] == f"{PLAN} (2025)"
        assert reports["2024"]["unassigned"]["households"] == reports["2025"]["unassigned"]["households"] == 0
    # The comparison report: old commune → new unit, both maps' figures, the same totals.
    body = client.get("/api/v1/crosswalks/2024/2025/comparison?as_of=2025-05-19", headers=headers).get_json()
    assert body["totals"]["old"] == body["totals"]["new"]
    assert body["totals"]["old"]["planned"] == sum(r["new_build"] + r["repair"] for r in _rows(maps, scale=2))
    assert body["plans"]["new"]["name"] == f"{PLAN} (2025)"
    link = next(r for r in body["rows"] if r["old"]["completed"])
    old_row = client.get("/api/v1/progress?as_of=2025-05-19&set=2024", headers=headers).get_json()["rows"]
    assert link["old"]["completed"] == next(r for r in old_row if r["code"] == link["old_code"])["completed"]["total"]
    text = client.get("/api/v1/crosswalks/2024/2025/comparison.csv?as_of=2025-05-19&lang=en",
                      headers=headers).get_data(as_text=True)
    total_line = text.strip().splitlines()[-1].split(",")
    assert total_line[1] == "Total" and total_line[5:9] == total_line[9:13]
    xlsx = client.get("/api/v1/crosswalks/2024/2025/comparison.xlsx?as_of=2025-05-19", headers=headers)
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    json_error(client.get("/api/v1/crosswalks/2024/2025/comparison?as_of=2025-13-01", headers=headers), 422)

    # Without a set, a report is on the map in force on its date.
    before = client.get("/api/v1/progress?level=province&as_of=2025-06-30", headers=headers).get_json()
    after = client.get("/api/v1/progress?level=province&as_of=2025-07-01", headers=headers).get_json()
    assert (before["boundary_set"], after["boundary_set"]) == ("2024", "2025")
    assert before["totals"]["planned"] == after["totals"]["planned"]
