"""Completion-map layers: communes with progress, households as points."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.progress_builders import at, bearer, record, store
from tests.test_progress import AS_OF, REPORT_TIME, scenario


def _features(body: dict) -> dict[str, dict]:
    return {f["id"]: f for f in body["features"]}


def test_communes_layer_carries_the_progress_rows(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    headers = bearer()
    url = f"/api/v1/map/communes.geojson?as_of={AS_OF}&known_at={REPORT_TIME}"
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    body = json.loads(response.data)
    assert body["type"] == "FeatureCollection" and body["as_of"] == AS_OF and body["zoom"] == 8
    features = _features(body)
    assert set(features) == {"90001", "90002", "90003", "90004"}
    progress = client.get(f"/api/v1/progress?as_of={AS_OF}&known_at={REPORT_TIME}", headers=headers).json
    for row in progress["rows"]:
        assert features[row["code"]]["properties"] == row  # the same figures, field for field
    geometry = features["90001"]["geometry"]
    assert geometry["type"] == "MultiPolygon"
    assert geometry["coordinates"][0][0][0] == [104.0, 21.0]


def test_a_commune_without_plan_or_households_is_on_the_map_with_zeros(client, tmp_path: Path) -> None:
    from tests.progress_builders import load_province

    load_province(tmp_path)
    body = json.loads(client.get("/api/v1/map/communes.geojson", headers=bearer()).data)
    props = _features(body)["90003"]["properties"]
    assert props["planned"]["total"] == 0 and props["completed"]["total"] == 0 and props["percent_complete"] is None
    assert props["name"] == "Xã Ba"


def test_etag_and_if_none_match(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    headers = bearer()
    url = f"/api/v1/map/communes.geojson?as_of={AS_OF}"
    first = client.get(url, headers=headers)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and first.headers["Cache-Control"] == "private, no-cache"
    again = client.get(url, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert client.get(url, headers={**headers, "If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert client.get(url, headers={**headers, "If-None-Match": '"stale"'}).status_code == 200
    store([record("90003")], received_at=at("2025-04-16 12:00"))  # new data: a new ETag
    changed = client.get(url, headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_gzip_when_accepted(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    headers = {**bearer(), "Accept-Encoding": "gzip, deflate"}
    response = client.get(f"/api/v1/map/communes.geojson?as_of={AS_OF}", headers=headers)
    assert response.headers["Content-Encoding"] == "gzip"
    body = json.loads(gzip.decompress(response.data))
    assert len(body["features"]) == 4
    etag = response.headers["ETag"]
    assert client.get(f"/api/v1/map/communes.geojson?as_of={AS_OF}",
                      headers={**headers, "If-None-Match": etag}).status_code == 304


def test_a_body_of_many_pieces_is_the_collection_with_one_etag_however_sent() -> None:
    """Features encoded a thousand at a time (and deflated meanwhile) join into exactly the collection."""
    import orjson

    from tracker.progress.answers import FEATURES_AT_ONCE, collection_body
    for count in (0, 1, FEATURES_AT_ONCE, 2 * FEATURES_AT_ONCE + 1):
        features = [{"type": "Feature", "id": f"{i:05d}", "geometry": orjson.Fragment(b'{"type":"Point","coordinates":[1,2]}'),
                     "properties": {"name": f"Xã {i}", "done": i % 3}} for i in range(count)]
        collection = {"type": "FeatureCollection", "features": features, "known_at": "2025-04-16T01:00:00+00:00"}
        plain, packed = collection_body(collection, ("known_at",)), collection_body(collection, ("known_at",), True)
        expected = json.loads(orjson.dumps(collection))
        assert json.loads(plain.body) == expected and plain.size() == len(plain.body)
        assert gzip.decompress(packed.gzipped()) == packed.body == plain.body
        assert packed.etag == plain.etag
        later = collection_body(collection | {"known_at": "2025-04-16T02:00:00+00:00"}, ("known_at",), True)
        assert later.etag == plain.etag  # a volatile member is not part of the representation's identity
        if count:
            features[-1]["properties"]["done"] += 1
            assert collection_body(collection, ("known_at",), True).etag != plain.etag


def _round_set(tmp_path: Path) -> object:
    """A wiggly commune: 400 vertices on a circle of 0.1°, imported as set "round"."""
    import math

    from tests.helpers import feature, write_collection
    from tracker.boundaries.service import get_set, import_boundary_set
    from tracker.extensions import db
    angles = [2 * math.pi * i / 400 for i in range(400)]
    ring = [[round(104 + 0.1 * math.cos(a), 7), round(21 + 0.1 * math.sin(a), 7)] for a in angles]
    ring.append(ring[0])
    import_boundary_set("round", write_collection(tmp_path / "r.geojson", [feature("70001", "Xã Tròn", [ring])]))
    db.session.commit()
    return get_set("round")


def test_zoom_simplifies_and_rounds(client, app, tmp_path: Path) -> None:
    from tracker.boundaries.outlines import outlines
    from tracker.geo.outlines import decimals_for

    boundary_set = _round_set(tmp_path)
    coarse = json.loads(outlines(boundary_set, 5)["70001"])["coordinates"][0][0]
    fine = json.loads(outlines(boundary_set, 14)["70001"])["coordinates"][0][0]  # not prepared: made on need
    assert len(coarse) < 20 < 100 < len(fine) <= 401
    assert all(len(str(x).split(".")[-1]) <= decimals_for(5) for x, _ in coarse)
    assert outlines(boundary_set, 14) is outlines(boundary_set, 14)  # kept per process
    headers = bearer()
    low = client.get("/api/v1/map/communes.geojson?set=round&zoom=5", headers=headers)
    high = client.get("/api/v1/map/communes.geojson?set=round&zoom=14", headers=headers)
    assert len(low.data) < len(high.data) / 3


def test_outlines_are_prepared_at_import_and_served_as_stored(client, app, tmp_path: Path) -> None:
    from sqlalchemy import select, update

    from tracker.boundaries import outlines as prepared
    from tracker.boundaries.models import UnitOutline
    from tracker.extensions import db

    boundary_set = _round_set(tmp_path)
    stored = db.session.execute(select(UnitOutline.zoom, UnitOutline.geometry)
                                .where(UnitOutline.boundary_set_id == boundary_set.id)).all()
    assert sorted(z for z, _ in stored) == list(prepared.PREPARED_ZOOMS)
    # What the answer carries is the stored text, not a simplification made on the request.
    marker = '{"type":"MultiPolygon","coordinates":[[[[104.0,21.0],[104.1,21.0],[104.1,21.1],[104.0,21.0]]]]}'
    db.session.execute(update(UnitOutline).where(UnitOutline.boundary_set_id == boundary_set.id,
                                                 UnitOutline.zoom == 7).values(geometry=marker))
    db.session.commit()
    prepared._CACHE.clear()  # as after a restart
    body = json.loads(client.get("/api/v1/map/communes.geojson?set=round&zoom=7", headers=bearer()).data)
    assert body["features"][0]["geometry"] == json.loads(marker)
    # flask boundaries outlines prepares them again
    result = app.test_cli_runner().invoke(args=["boundaries", "outlines", "--set", "round"])
    assert result.exit_code == 0, result.output
    assert "boundary set round: 9 outlines stored (zooms 4–12)" in result.output
    again = db.session.scalar(select(UnitOutline.geometry).where(UnitOutline.boundary_set_id == boundary_set.id,
                                                                 UnitOutline.zoom == 7))
    assert again != marker and json.loads(again)["type"] == "MultiPolygon"
    bad = app.test_cli_runner().invoke(args=["boundaries", "outlines", "--set", "nope"])
    assert bad.exit_code == 2 and "no boundary set named 'nope'" in bad.output


def test_map_is_scoped(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    body = json.loads(client.get("/api/v1/map/communes.geojson", headers=bearer("commune_officer", ("90004",))).data)
    assert list(_features(body)) == ["90004"]


@pytest.mark.parametrize(("query", "field"), [
    ("zoom=19", "zoom"), ("zoom=-1", "zoom"), ("zoom=abc", "zoom"), ("as_of=2025-02-30", "as_of"),
    ("bbox=1,2,3,4", "bbox"),
])
def test_map_bad_queries(client, tmp_path: Path, query: str, field: str) -> None:
    scenario(tmp_path)
    response = client.get(f"/api/v1/map/communes.geojson?{query}", headers=bearer())
    assert response.status_code == 422 and field in response.json["error"]["fields"]


def test_household_points_with_filters(client, tmp_path: Path) -> None:
    ids = scenario(tmp_path)
    headers = bearer()
    body = json.loads(client.get("/api/v1/households.geojson", headers=headers).data)
    features = _features(body)
    assert len(features) == 7 and body["truncated"] is False
    h1 = features[ids["h1"]]
    assert h1["geometry"] == {"type": "Point", "coordinates": [104.05, 21.05]}
    assert h1["properties"]["status"] == "completed" and h1["properties"]["commune"] == "90001"
    assert "national_id" not in h1["properties"]
    assert features[ids["h7"]]["properties"]["needs_review"] is True
    only = json.loads(client.get("/api/v1/households.geojson?commune=90001&status=completed", headers=headers).data)
    assert [f["id"] for f in only["features"]] == [ids["h1"]]
    repairs = json.loads(client.get("/api/v1/households.geojson?support_type=repair", headers=headers).data)
    assert {f["id"] for f in repairs["features"]} == {ids["h3"], ids["h7"]}
    limited = json.loads(client.get("/api/v1/households.geojson?limit=2", headers=headers).data)
    assert len(limited["features"]) == 2 and limited["truncated"] is True
    before = json.loads(client.get("/api/v1/households.geojson?known_at=2025-04-16T09:00:00%2B07:00",
                                   headers=headers).data)
    assert before["features"] == []


def test_household_points_are_scoped(client, tmp_path: Path) -> None:
    ids = scenario(tmp_path)
    body = json.loads(client.get("/api/v1/households.geojson",
                                 headers=bearer("commune_officer", ("90004",))).data)
    assert [f["id"] for f in body["features"]] == [ids["h6"]]
    other = json.loads(client.get("/api/v1/households.geojson?commune=90001",
                                  headers=bearer("commune_officer", ("90004",))).data)
    assert other["features"] == []


@pytest.mark.parametrize(("query", "field"), [
    ("status=done", "status"), ("support_type=house", "support_type"), ("limit=0", "limit"),
    ("limit=999999999", "limit"), ("commune=" + "9" * 40, "commune"), ("known_at=soon", "known_at"),
    ("set=nope", "set"),
])
def test_household_points_bad_queries(client, tmp_path: Path, query: str, field: str) -> None:
    scenario(tmp_path)
    response = client.get(f"/api/v1/households.geojson?{query}", headers=bearer())
    assert response.status_code in (404, 422) and field in response.json["error"]["fields"]


def test_map_layers_need_a_token(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    for url in ("/api/v1/map/communes.geojson", "/api/v1/households.geojson"):
        response = client.get(url)
        assert response.status_code == 401 and response.is_json
