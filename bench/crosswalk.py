"""Benchmark: the national crosswalk, re-assignment and plan carry across the July 2025 merger.

    .venv/bin/python bench/crosswalk.py [--households 334000] [--db PATH]

Loads the national 2024 communes (``vietnam-communes-2024.geojson``, 11,163)
with households (default 334,000, spread as in ``bench/progress.py``) and a
plan on every commune, then the national 2025 units
(``vietnam-communes-2025.geojson``, 3,321), both from ``BOUNDARIES_DIR``,
and measures in one run:

* the crosswalk 2024 → 2025 (the project's STRtree core), against
  ``geopandas.overlay`` of the same two layers (the baseline);
* the re-assignment of every household under the 2025 set through the
  ledger (batches, declared codes read through the crosswalk), against the
  assignment engine alone on the same points (the baseline);
* the carry of the national plan to 2025, and the province totals: the
  national total, and each 2025 province against the 2024 communes the
  crosswalk puts in it (planned must be equal everywhere; completed is
  shown, as GPS points near a provincial border the two surveys draw
  differently may count on either side).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import progress as national  # noqa: E402  (bench/progress.py: the national households and plan)

NEW_SET = "vn2025"
AS_OF = date(2025, 6, 30)


def _app(url: str, instance: Path) -> Any:
    from tracker.app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": str(instance), "ENV_NAME": "testing"})


def timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def load_new_set(log: Any) -> None:
    from tracker.boundaries.service import import_boundary_set
    from tracker.extensions import db
    from tracker.geo import sources

    path = sources.boundary_file("vietnam-communes-2025.geojson")
    if path is None:
        raise SystemExit("vietnam-communes-2025.geojson not found in BOUNDARIES_DIR")
    report, seconds = timed(lambda: import_boundary_set(NEW_SET, path, in_force_from=date(2025, 7, 1)))
    db.session.commit()
    log(f"boundary set {NEW_SET}: {report.status} {report.counts} in {seconds:.1f} s")


def crosswalk_figures(log: Any) -> dict[str, float]:
    from tracker.boundaries.service import get_set, unit_shapes
    from tracker.crosswalks.service import compute_crosswalk
    from tracker.extensions import db
    from tracker.geo.crosswalk import compute

    old, new = get_set(national.SET_NAME), get_set(NEW_SET)
    row, seconds = timed(lambda: compute_crosswalk(old, new))
    db.session.commit()
    split = len({k.old_code for k in row.links}) - sum(1 for k in row.links if k.share >= 1.0)
    log(f"crosswalk stored: {len(row.links):,} links, {split:,} split communes, {row.slivers:,} slivers dropped, "
        f"{len(row.unmatched.split())} unmatched — {seconds:.1f} s (units read from the database, shares, "
        "household check, links stored)")
    shapes = [unit_shapes(old), unit_shapes(new)]
    _, core = timed(lambda: compute([(c, g) for c, _, g in shapes[0]], [(c, g) for c, _, g in shapes[1]]))
    figures = {"crosswalk_s": seconds, "core_s": core}
    log(f"crosswalk core alone on the same shapes: {core:.1f} s")
    try:
        import geopandas
    except ImportError:
        log("baseline: geopandas not installed (make bench installs it); no ratio")
        return figures
    frames = [geopandas.GeoDataFrame({"code": [c for c, _, _ in s]}, geometry=[g for _, _, g in s], crs="EPSG:4326")
              for s in shapes]
    overlay, baseline = timed(lambda: geopandas.overlay(frames[0], frames[1], how="intersection",
                                                        keep_geom_type=True))
    figures["overlay_s"] = baseline
    log(f"baseline geopandas.overlay on the same shapes: {len(overlay):,} pieces in {baseline:.1f} s; "
        f"core / overlay = {core / baseline:.2f}")
    return figures


def reassign_figures(log: Any) -> dict[str, float]:
    import numpy as np
    from sqlalchemy import select

    from tracker.boundaries.service import commune_index, get_set
    from tracker.extensions import db
    from tracker.households.ledger import reassign_set
    from tracker.households.models import HouseholdRevision as HR

    new = get_set(NEW_SET)
    rows = db.session.execute(select(HR.lat, HR.lon, HR.accuracy_m, HR.declared_commune)).all()
    index = commune_index(new)  # built once, as every process does
    lats, lons = np.array([r.lat for r in rows]), np.array([r.lon for r in rows])
    accs = np.array([r.accuracy_m or 0.0 for r in rows])
    _, engine = timed(lambda: index.assign_many(lats, lons, accs, [r.declared_commune for r in rows]))
    done, seconds = timed(lambda: reassign_set(new))
    db.session.commit()
    log(f"re-assignment through the ledger: {done:,} revisions in {seconds:.1f} s "
        f"({done / seconds:,.0f}/s); the engine alone on the same points: {engine:.1f} s; ratio {seconds / engine:.2f}")
    return {"reassign_s": seconds, "engine_s": engine}


def agreement(log: Any) -> None:
    from tracker.boundaries.service import get_set
    from tracker.crosswalks.service import as_core, current_crosswalk, household_pairs
    from tracker.geo.crosswalk import check_households

    old, new = get_set(national.SET_NAME), get_set(NEW_SET)
    check = check_households(as_core(current_crosswalk(old, new)), household_pairs(old, new))
    log(f"households assigned under both maps in a pair the crosswalk links: {check.agreeing:,}/{check.households:,}"
        f" ({check.agreement or 0:.2%})")


def _province_of_units(set_name: str) -> dict[str, str]:
    from sqlalchemy import select

    from tracker.boundaries.models import AdminUnit
    from tracker.boundaries.service import get_set
    from tracker.extensions import db

    units = dict(db.session.execute(select(AdminUnit.code, AdminUnit.parent_code).where(
        AdminUnit.boundary_set_id == get_set(set_name).id)).all())
    out = {}
    for code, parent in units.items():
        while parent in units and units[parent] is not None:
            parent = units[parent]
        out[code] = parent or code
    return out


def carry_figures(log: Any) -> dict[str, Any]:
    from tracker.boundaries.service import get_set
    from tracker.crosswalks.service import current_crosswalk
    from tracker.extensions import db
    from tracker.plans.carry import carry_plan
    from tracker.plans.service import get_plan
    from tracker.progress.service import progress_report, resolve

    old, new = get_set(national.SET_NAME), get_set(NEW_SET)
    plan = get_plan(national.PLAN_NAME)
    result, seconds = timed(lambda: carry_plan(plan, new))
    db.session.commit()
    log(f"plan carried: {len(result.carried)} revision(s), {len(result.split):,} split communes in {seconds:.1f} s")
    # Each 2024 commune counts in the 2025 province the crosswalk puts it in (its largest part's).
    new_province = _province_of_units(new.name)
    largest: dict[str, tuple[float, str]] = {}
    for link in current_crosswalk(old, new).links:
        if link.old_code not in largest or link.share > largest[link.old_code][0]:
            largest[link.old_code] = (link.share, link.new_code)
    goes_to = {code: new_province.get(new_code, "?") for code, (_, new_code) in largest.items()}
    now = datetime.now(UTC)
    reports = {s.name: progress_report(resolve(AS_OF, now, s.name, None, None), "commune") for s in (old, new)}
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in reports[old.name].rows:
        expected[goes_to.get(row["code"], "?")][0] += row["planned"]["total"]
        expected[goes_to.get(row["code"], "?")][1] += row["completed"]["total"]
    got: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in reports[new.name].rows:
        got[new_province.get(row["code"], "?")][0] += row["planned"]["total"]
        got[new_province.get(row["code"], "?")][1] += row["completed"]["total"]
    totals = {name: (r.totals["planned"]["total"], r.totals["completed"]["total"]) for name, r in reports.items()}
    provinces = sorted(set(got) | set(expected))
    planned_equal = sum(1 for p in provinces if got[p][0] == expected[p][0])
    completed_equal = sum(1 for p in provinces if got[p][1] == expected[p][1])
    log(f"national totals as of {AS_OF} (planned, completed): 2024 map {totals[old.name]}, 2025 map {totals[new.name]}"
        f" — {'identical' if totals[old.name] == totals[new.name] else 'DIFFERENT'}")
    for p in provinces:
        if got[p][0] != expected[p][0]:
            log(f"  province {p}: planned {expected[p][0]:,} on the 2024 map, {got[p][0]:,} on the 2025 map")
    moved = sum(abs(got[p][1] - expected[p][1]) for p in provinces) // 2
    log(f"2025 provinces (2024 communes grouped by the province the crosswalk puts them in): planned equal in "
        f"{planned_equal}/{len(provinces)}{' — ALL EQUAL' if planned_equal == len(provinces) else ''}; "
        f"completed equal in {completed_equal}/{len(provinces)} ({moved:,} completed houses located by GPS across a "
        "provincial border the two surveys draw differently)")
    return {"carry_s": seconds, "totals": totals, "planned_equal": planned_equal, "provinces": len(provinces)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=334_000)
    parser.add_argument("--db", type=Path, help="SQLite file to reuse between runs (default: a temporary one)")
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    from tracker.geo import sources

    if sources.boundary_file(sources.NATIONAL_2024_COMMUNES) is None:
        raise SystemExit("national boundary files not found (BOUNDARIES_DIR)")
    folder = Path(tempfile.mkdtemp(prefix="bench-crosswalk-"))
    path = args.db or folder / "bench.db"
    app = _app(f"sqlite:///{path}", folder)
    from flask_migrate import upgrade

    def log(line: str) -> None:
        print(line, flush=True)

    with app.app_context():
        upgrade()
    national.load(app, args.households, args.seed, log)
    log(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with app.app_context():
        load_new_set(log)
        crosswalk_figures(log)
        reassign_figures(log)
        agreement(log)
        carry_figures(log)
    log(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
