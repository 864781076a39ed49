"""``flask boundaries import`` and the boundary API, on real and bad files."""
from __future__ import annotations

import json
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from tests.helpers import feature, real_file, square, two_communes, write_collection
from tracker.boundaries.models import AdminUnit, BoundarySet
from tracker.extensions import db
from tracker.geo import sources


def _count(level: str | None = None) -> int:
    query = select(func.count()).select_from(AdminUnit)
    if level:
        query = query.where(AdminUnit.level == level)
    return db.session.scalar(query)


def test_import_real_2024_set_with_districts_and_province(runner) -> None:
    communes = real_file(sources.SON_LA_2024_COMMUNES)
    districts = real_file(sources.SON_LA_2024_DISTRICTS)
    province = real_file(sources.SON_LA_2024_PROVINCE)
    result = runner.invoke(args=["boundaries", "import", str(communes), "--set", "2024",
                                 "--districts", str(districts), "--province", str(province)])
    assert result.exit_code == 0, result.output
    assert "created (1 province, 12 districts, 204 communes)" in result.output
    assert _count("commune") == 204 and _count("district") == 12 and _count("province") == 1
    bac_yen = db.session.scalar(select(AdminUnit).where(AdminUnit.code == "03871"))
    assert (bac_yen.name, bac_yen.parent_code) == ("Pắc Ngà", "121")  # Bắc Yên district
    parents = set(db.session.scalars(select(AdminUnit.parent_code).where(AdminUnit.level == "commune")))
    district_codes = set(db.session.scalars(select(AdminUnit.code).where(AdminUnit.level == "district")))
    assert parents == district_codes
    total_area = db.session.scalar(select(func.sum(AdminUnit.area_km2)).where(AdminUnit.level == "commune"))
    assert 14_000 < total_area < 14_250  # SOURCES.md: 14,113.5 km²


def test_reimporting_the_same_set_changes_nothing(runner) -> None:
    communes = real_file(sources.SON_LA_2025_COMMUNES)
    first = runner.invoke(args=["boundaries", "import", str(communes), "--set", "2025"])
    assert first.exit_code == 0, first.output
    assert "75 communes" in first.output
    ids = sorted(db.session.scalars(select(AdminUnit.id)))
    second = runner.invoke(args=["boundaries", "import", str(communes), "--set", "2025"])
    assert second.exit_code == 0 and "unchanged" in second.output
    assert sorted(db.session.scalars(select(AdminUnit.id))) == ids
    assert db.session.scalar(select(BoundarySet.version)) == 1


def test_changed_file_replaces_the_set_and_bumps_version(runner, tmp_path: Path) -> None:
    path = two_communes(tmp_path / "a.geojson")
    assert runner.invoke(args=["boundaries", "import", str(path), "--set", "t"]).exit_code == 0
    write_collection(path, [feature("90001", "Xã Một", square(104.0, 21.0, 0.2), province="Tỉnh Thử")])
    result = runner.invoke(args=["boundaries", "import", str(path), "--set", "t"])
    assert "replaced" in result.output
    assert _count("commune") == 1
    assert db.session.scalar(select(BoundarySet.version)) == 2


def test_derived_district_and_province_without_files(runner, tmp_path: Path) -> None:
    result = runner.invoke(args=["boundaries", "import", str(two_communes(tmp_path / "c.geojson")), "--set", "t"])
    assert result.exit_code == 0, result.output
    assert _count("province") == 1 and _count("district") == 1 and _count("commune") == 2
    assert "derived from its communes" in result.output


def _rejected(runner, path: Path, *expected: str) -> str:
    result = runner.invoke(args=["boundaries", "import", str(path), "--set", "bad"])
    assert result.exit_code != 0
    assert "nothing imported" in result.output
    for text in expected:
        assert text in result.output
    assert "Traceback" not in result.output
    assert _count() == 0 and db.session.scalar(select(func.count()).select_from(BoundarySet)) == 0
    return result.output


def test_not_geojson_is_refused(runner, tmp_path: Path) -> None:
    path = tmp_path / "x.geojson"
    path.write_text("this is not json", "utf-8")
    _rejected(runner, path, "not GeoJSON")
    path.write_bytes(b"\xff\xfe\x00garbage")
    _rejected(runner, path, "not GeoJSON")
    path.write_text(json.dumps({"type": "Feature"}), "utf-8")
    _rejected(runner, path, "not a GeoJSON FeatureCollection")


def test_missing_code_and_repeated_code_name_the_feature(runner, tmp_path: Path) -> None:
    path = write_collection(tmp_path / "x.geojson", [
        feature("90001", "Xã Một", square(104.0, 21.0, 0.1)),
        feature(None, "Xã Không Mã", square(104.1, 21.0, 0.1)),
        feature("90001", "Xã Trùng", square(104.2, 21.0, 0.1)),
    ])
    _rejected(runner, path, "feature 1: missing 'code'", "feature 2 (code 90001): code 90001 repeats feature 0")


def test_non_polygon_geometry_is_refused_whole_file(runner, tmp_path: Path) -> None:
    path = write_collection(tmp_path / "x.geojson", [
        feature("90001", "Xã Một", square(104.0, 21.0, 0.1)),
        feature("90002", "Xã Điểm", [104.1, 21.0], kind="Point"),
    ])
    _rejected(runner, path, "feature 1 (code 90002): geometry is Point")


def test_invalid_geometry_is_repaired_and_reported(runner, tmp_path: Path) -> None:
    bowtie = [[[104.0, 21.0], [104.1, 21.1], [104.1, 21.0], [104.0, 21.1], [104.0, 21.0]]]
    path = write_collection(tmp_path / "x.geojson", [feature("90001", "Xã Nơ", bowtie)])
    result = runner.invoke(args=["boundaries", "import", str(path), "--set", "t"])
    assert result.exit_code == 0, result.output
    assert "repaired: feature 0 (code 90001): invalid geometry repaired (Self-intersection" in result.output
    assert _count("commune") == 1


def test_missing_file_is_a_clear_error(runner, tmp_path: Path) -> None:
    _rejected(runner, tmp_path / "absent.geojson", "file not found")


def test_district_named_but_absent_from_districts_file(runner, tmp_path: Path) -> None:
    communes = write_collection(tmp_path / "c.geojson", [
        feature("90001", "Xã Một", square(104.0, 21.0, 0.1), district="Huyện Không Có"),
    ])
    districts = write_collection(tmp_path / "d.geojson", [feature("901", "Huyện Khác", square(104.0, 21.0, 0.1))])
    result = runner.invoke(args=["boundaries", "import", str(communes), "--set", "t", "--districts", str(districts)])
    assert result.exit_code != 0 and "Huyện Không Có" in result.output
    assert _count() == 0


def test_api_lists_sets_and_units(app: Flask, runner, client, tmp_path: Path) -> None:
    runner.invoke(args=["boundaries", "import", str(two_communes(tmp_path / "c.geojson")), "--set", "thử"])
    sets = client.get("/api/v1/boundary-sets").get_json()
    assert [s["name"] for s in sets] == ["thử"]
    assert sets[0]["counts"] == {"commune": 2, "district": 1, "province": 1}
    units = client.get("/api/v1/boundary-sets/thử/units").get_json()
    assert [(u["code"], u["name"]) for u in units] == [("90001", "Xã Một"), ("90002", "Xã Hai")]
    assert 100 < units[0]["area_km2"] < 130  # 0.1° × 0.1° at 21° N ≈ 115 km²
    missing = client.get("/api/v1/boundary-sets/none/units")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
