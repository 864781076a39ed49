"""A declared commune code belongs to a map: an old code is no mismatch under the old map, nor under the new."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from tests.maps_builders import load_two_maps
from tests.progress_builders import at, record, store
from tracker.boundaries.service import unit_shapes
from tracker.crosswalks.service import current_crosswalk
from tracker.extensions import db
from tracker.households.ledger import reassign_set
from tracker.households.models import RevisionAssignment


def _assignments(set_id: int) -> list[RevisionAssignment]:
    return list(db.session.scalars(select(RevisionAssignment).where(RevisionAssignment.boundary_set_id == set_id)
                                   .order_by(RevisionAssignment.revision_id)))


def test_old_codes_are_judged_on_the_map_they_belong_to(runner, tmp_path: Path) -> None:
    maps = load_two_maps(tmp_path)
    new_codes = {code for code, _, _ in unit_shapes(maps.new)}
    # An old commune whose code did not live on, and a point well inside it; and a point in the middle of nowhere.
    code, _, geom = next((c, n, g) for c, n, g in unit_shapes(maps.old) if c not in new_codes)
    inside = geom.buffer(-0.003).representative_point()
    store([record("90001", lat=inside.y, lon=inside.x, declared=code),
           record("90001", lat=0.0, lon=0.0, declared=code)], at("2025-03-01 09:00"))
    old, new = _assignments(maps.old.id), _assignments(maps.new.id)
    assert [a.commune_code for a in old] == [code, code]  # the old map knows the code
    assert old[0].flag is None
    assert new[1].commune_code is None  # without a crosswalk the new map cannot read it

    result = runner.invoke(args=["crosswalks", "compute", "--from", "2024", "--to", "2025"])
    assert result.exit_code == 0, result.output
    assert "household revisions re-assigned under 2025" in result.output
    went_into = {link.new_code for link in current_crosswalk(maps.old, maps.new).links if link.old_code == code}
    new = _assignments(maps.new.id)
    assert new[0].commune_code in went_into and "mismatch" not in new[0].details["flags"]
    assert new[1].commune_code in went_into and new[1].details["method"] == "declared"  # the fallback, read across
    assert "mismatch" not in (new[1].details["flags"])


def test_a_real_mismatch_stays_one(app, tmp_path: Path) -> None:
    maps = load_two_maps(tmp_path)
    current_crosswalk(maps.old, maps.new)
    db.session.commit()
    shapes = unit_shapes(maps.old)
    links = current_crosswalk(maps.old, maps.new).links
    # Declared: an old commune far from where the point is (in no new unit the point's old commune shares).
    (here, _, geom), (there, _, _) = shapes[0], shapes[-1]
    assert {lk.new_code for lk in links if lk.old_code == here}.isdisjoint(
        {lk.new_code for lk in links if lk.old_code == there})
    point = geom.buffer(-0.003).representative_point()
    store([record("90001", lat=point.y, lon=point.x, declared=there)], at("2025-03-01 09:00"))
    reassign_set(maps.new)
    [old], [new] = _assignments(maps.old.id), _assignments(maps.new.id)
    assert old.flag == "mismatch" and new.flag == "mismatch"


def test_pull_marks_the_communes_of_the_map_in_force(client, tmp_path: Path) -> None:
    from datetime import date

    from tests.progress_builders import bearer

    maps = load_two_maps(tmp_path)
    maps.new.in_force_from = date(2025, 7, 1)
    db.session.commit()
    headers = bearer()
    communes, cursor = [], None
    while True:
        body = client.get("/api/v1/sync/pull?limit=500" + (f"&cursor={cursor}" if cursor else ""),
                          headers=headers).get_json()
        communes += [c["data"] for c in body["changes"] if c.get("type") == "commune"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    in_force = {c["boundary_set"] for c in communes if c["in_force"]}
    assert in_force == {"2025"}
    assert sum(1 for c in communes if c["in_force"]) == len(unit_shapes(maps.new))
