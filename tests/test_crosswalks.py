"""Crosswalks between the two maps: computed, checked, stored, loaded from a list, downloaded."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import shapely
from openpyxl import load_workbook
from pytest import approx
from sqlalchemy import func, select

from tests.helpers import json_error
from tests.maps_builders import load_two_maps
from tests.progress_builders import bearer
from tracker.boundaries.service import unit_shapes
from tracker.crosswalks.models import Crosswalk, CrosswalkLink
from tracker.crosswalks.service import current_crosswalk
from tracker.extensions import db


def _links() -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for link in db.session.scalars(select(CrosswalkLink)):
        out.setdefault(link.old_code, {})[link.new_code] = link.share
    return out


def test_every_old_commune_lands_in_the_new_units_that_contain_it(runner, tmp_path: Path) -> None:
    maps = load_two_maps(tmp_path)
    result = runner.invoke(args=["crosswalks", "compute", "--from", "2024", "--to", "2025"])
    assert result.exit_code == 0, result.output
    links = _links()
    old_shapes = unit_shapes(maps.old)
    new_shapes = {code: geom for code, _, geom in unit_shapes(maps.new)}
    assert set(links) == {code for code, _, _ in old_shapes}
    for code, _, geom in old_shapes:
        assert abs(sum(links[code].values()) - 1) < 1e-9
        # The largest part of the old commune is inside the new unit the crosswalk gives it the most of.
        biggest = max(links[code], key=links[code].get)
        overlap = {new: shapely.intersection(geom, shape).area for new, shape in new_shapes.items()}
        assert biggest == max(overlap, key=overlap.get), code
    if maps.real:
        assert "204 units into 75" in result.output
        assert len([c for c in links.values() if len(c) > 1]) == 19  # split communes at 5 %
        # A commune whose code lives on in 2025 (the seat of the merged commune) went into it.
        kept = set(links) & set(new_shapes)
        assert len(kept) >= 40
        assert all(code in links[code] for code in kept)
        assert links["03871"] == {"03862": approx(0.2272, abs=1e-4), "03871": approx(0.7728, abs=1e-4)}  # Pắc Ngà


def test_crosswalk_is_stored_per_set_versions_and_made_again_when_a_set_changes(app, tmp_path: Path) -> None:
    maps = load_two_maps(tmp_path)
    first = current_crosswalk(maps.old, maps.new)
    db.session.commit()
    assert current_crosswalk(maps.old, maps.new).id == first.id  # stored, not made again
    maps.new.version += 1  # what a changed re-import does
    db.session.commit()
    second = current_crosswalk(maps.old, maps.new)
    assert second.id != first.id and second.to_version == maps.new.version
    assert db.session.scalar(select(func.count()).select_from(Crosswalk)) == 2


def _official(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "official.csv"
    path.write_text("old_code,new_code,share,old_name\n" + body, encoding="utf-8")
    return path


def test_an_official_list_wins_for_the_units_it_names(runner, tmp_path: Path) -> None:
    maps = load_two_maps(tmp_path)
    old_code = unit_shapes(maps.old)[0][0]
    new_codes = [code for code, _, _ in unit_shapes(maps.new)][:2]
    path = _official(tmp_path, f"{old_code},{new_codes[0]},0.25,x\n{old_code},{new_codes[1]},0.75,x\n")
    result = runner.invoke(args=["crosswalks", "import", str(path), "--from", "2024", "--to", "2025"])
    assert result.exit_code == 0, result.output
    assert ", official)" in result.output
    assert _links()[old_code] == {new_codes[0]: 0.25, new_codes[1]: 0.75}
    row = current_crosswalk(maps.old, maps.new, compute=False)
    assert (row.source, row.source_name) == ("official", "official.csv")
    others = {link.source for link in row.links if link.old_code != old_code}
    assert others == {"geometry"}


def test_a_bad_official_list_is_refused_with_each_problem_and_nothing_stored(runner, tmp_path: Path) -> None:
    maps = load_two_maps(tmp_path)
    old_code = unit_shapes(maps.old)[0][0]
    new_code = unit_shapes(maps.new)[0][0]
    path = _official(tmp_path, f"{old_code},{new_code},0.5,x\n99999,{new_code},,x\n{old_code},88888,0.3,x\n")
    result = runner.invoke(args=["crosswalks", "import", str(path), "--from", "2024", "--to", "2025"])
    assert result.exit_code == 1
    assert "nothing stored, 3 problem(s)" in result.output
    assert "row 3: old code 99999 is not in the old boundary set" in result.output
    assert "row 4: new code 88888 is not in the new boundary set" in result.output
    assert f"old code {old_code}: shares sum to 0.8, not 1" in result.output
    assert db.session.scalar(select(func.count()).select_from(Crosswalk)) == 0


def test_crosswalk_api_and_files(client, tmp_path: Path) -> None:
    maps = load_two_maps(tmp_path)
    headers = bearer("manager")
    body = client.get("/api/v1/crosswalks/2024/2025", headers=headers).get_json()
    old_count = len(unit_shapes(maps.old))
    assert body["from_set"] == "2024" and body["to_set"] == "2025" and body["current"] is True
    assert body["old_units"] == old_count and body["new_units"] == len(unit_shapes(maps.new))
    assert sum(1 for link in body["links"]) == db.session.scalar(select(func.count()).select_from(CrosswalkLink))
    first = body["links"][0]
    assert set(first) >= {"new_code", "new_name", "old_code", "old_name", "share", "households", "source"}
    listed = client.get("/api/v1/crosswalks", headers=headers).get_json()
    assert [c["id"] for c in listed] == [body["id"]]

    text = client.get("/api/v1/crosswalks/2024/2025.csv?lang=en", headers=headers).get_data(as_text=True)
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    titles = lines.index(["New unit code", "New unit", "Old unit code", "Old unit", "Old district",
                          "Share of old unit's area", "Area (km²)", "Households", "Source"])
    data = lines[titles + 1:]
    assert len(data) == len(body["links"])
    assert {row[2] for row in data} == {link["old_code"] for link in body["links"]}

    xlsx = client.get("/api/v1/crosswalks/2024/2025.xlsx", headers=headers)
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data), read_only=True).worksheets[0]
    assert sum(1 for _ in sheet.iter_rows()) == len(body["links"]) + 7  # 5 header lines, a blank, titles

    officer = bearer("commune_officer", (first["old_code"],), name="officer")
    own = client.get("/api/v1/crosswalks/2024/2025", headers=officer).get_json()["links"]
    assert own and all(first["old_code"] in (link["old_code"], link["new_code"]) for link in own)
    assert len(own) < len(body["links"])

    json_error(client.get("/api/v1/crosswalks/2024/nowhere", headers=headers), 404)
    json_error(client.get("/api/v1/crosswalks/2024/2024", headers=headers), 422)
    json_error(client.get("/api/v1/crosswalks/2024/2025.csv?lang=fr", headers=headers), 422)
    json_error(client.get("/api/v1/crosswalks/2024/2025"), 401)


def test_crosswalk_page_lists_the_old_communes_each_new_unit_absorbed(client, tmp_path: Path) -> None:
    from tests.test_web import sign_in

    maps = load_two_maps(tmp_path)
    sign_in(client, "manager")
    page = client.get("/crosswalks/2024/2025?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    new_units = len(unit_shapes(maps.new))
    assert f"{new_units} new units; for each, the old communes it absorbed" in html
    for code, name, _ in unit_shapes(maps.old):
        assert f"/communes/{code}?set=2024" in html and name in html
    share = db.session.scalar(select(CrosswalkLink.share).order_by(CrosswalkLink.share).limit(1))
    assert f"{share * 100:.1f} %" in html
    vietnamese = client.get("/crosswalks/2024/2025?lang=vi").get_data(as_text=True)
    assert "Bảng chuyển đổi 2024 → 2025" in vietnamese
    assert client.get("/crosswalks/2024/nowhere").status_code == 404
