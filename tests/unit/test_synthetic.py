"""The synthetic province: deterministic, valid, and a true tiling."""
from __future__ import annotations

import itertools
import json

import pytest
import shapely
from shapely.geometry import shape

from tracker.geo.sources import read_features
from tracker.geo.synthetic import SyntheticBoundaries, synthetic_province, write_geojson


@pytest.fixture(scope="module")
def boundaries() -> SyntheticBoundaries:
    return synthetic_province()


def shapes(features):
    return [shape(f["geometry"]) for f in features]


def test_same_seed_same_map_other_seed_other_map():
    assert synthetic_province(7) == synthetic_province(7)
    assert synthetic_province(7).communes != synthetic_province(8).communes


def test_counts(boundaries):
    assert len(boundaries.province) == 1
    assert len(boundaries.districts) == 3
    assert 12 <= len(boundaries.communes) <= 16
    assert boundaries.all_features() == [
        *boundaries.province, *boundaries.districts, *boundaries.communes]


def test_geometries_are_valid_multipolygons_in_the_expected_place(boundaries):
    for feature in boundaries.all_features():
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] == "MultiPolygon"
        geometry = shape(feature["geometry"])
        assert geometry.is_valid and not geometry.is_empty
        minx, miny, maxx, maxy = geometry.bounds
        assert 103.5 <= minx and maxx <= 104.5
        assert 21.0 <= miny and maxy <= 21.6


def test_exteriors_are_counter_clockwise(boundaries):
    for geometry in shapes(boundaries.all_features()):
        for polygon in geometry.geoms:
            assert polygon.exterior.is_ccw


@pytest.mark.parametrize("seed", range(12))
def test_communes_tile_the_province(seed):
    b = synthetic_province(seed)
    communes = shapes(b.communes)
    province = shapes(b.province)[0]
    assert sum(c.area for c in communes) == pytest.approx(province.area, rel=1e-9)
    assert shapely.union_all(communes).symmetric_difference(province).area < 1e-12
    for a, c in itertools.combinations(communes, 2):
        assert a.intersection(c).area < 1e-12


def test_each_commune_lies_in_exactly_one_district(boundaries):
    districts = {f["properties"]["code"]: shape(f["geometry"]) for f in boundaries.districts}
    for feature in boundaries.communes:
        commune = shape(feature["geometry"])
        own = feature["properties"]["district"]
        for code, district in districts.items():
            overlap = commune.intersection(district).area
            if code == own:
                assert overlap == pytest.approx(commune.area, rel=1e-9)
            else:
                assert overlap < 1e-12


def test_districts_are_the_union_of_their_communes(boundaries):
    for district in boundaries.districts:
        code = district["properties"]["code"]
        members = [shape(c["geometry"]) for c in boundaries.communes
                   if c["properties"]["district"] == code]
        assert len(members) >= 3
        union = shapely.union_all(members)
        assert union.symmetric_difference(shape(district["geometry"])).area < 1e-12


def test_commune_properties_look_like_the_real_files_but_are_labelled(boundaries):
    district_codes = {f["properties"]["code"] for f in boundaries.districts}
    codes = [f["properties"]["code"] for f in boundaries.communes]
    assert len(set(codes)) == len(codes)
    types = set()
    for feature in boundaries.communes:
        p = feature["properties"]
        assert set(p) == {"code", "name", "name_ascii", "type", "district", "province", "synthetic"}
        assert len(p["code"]) == 5 and p["code"].isdigit() and p["code"].startswith("9")
        assert "Mẫu" in p["name"] and p["name_ascii"].isascii()
        assert p["name"].startswith(p["type"])
        assert p["district"] in district_codes
        assert p["province"] == "Tỉnh Mẫu (tổng hợp)"
        assert p["synthetic"] is True
        types.add(p["type"])
    assert types == {"Xã", "Phường"}


def test_district_and_province_properties(boundaries):
    for feature in boundaries.districts:
        p = feature["properties"]
        assert len(p["code"]) == 3 and p["code"].startswith("9")
        assert p["name"] and p["name_ascii"].isascii() and p["type"] and p["province"]
        assert p["synthetic"] is True
    p = boundaries.province[0]["properties"]
    assert p["code"] == "99" and p["type"] == "Tỉnh" and p["synthetic"] is True
    assert p["name"] == "Tỉnh Mẫu (tổng hợp)"


def test_write_geojson_round_trips(tmp_path, boundaries):
    path = write_geojson(boundaries.communes, tmp_path / "communes.geojson")
    assert read_features(path) == json.loads(json.dumps(boundaries.communes))
    text = path.read_text(encoding="utf-8")
    assert json.loads(text)["type"] == "FeatureCollection"
    assert "Mẫu" in text  # names are written as UTF-8, not \\u escapes
