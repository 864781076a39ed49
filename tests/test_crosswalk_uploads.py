"""Official crosswalk lists uploaded through the API: JSON or a CSV/XLSX file, managers only, all or nothing."""
from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import func, select

from tests.helpers import feature, json_error, square, write_collection
from tests.maps_builders import TwoMaps, load_two_maps
from tests.progress_builders import at, bearer, record, store
from tracker.audit.models import AuditEvent
from tracker.boundaries.service import get_set, import_boundary_set, unit_shapes
from tracker.crosswalks.models import Crosswalk
from tracker.crosswalks.service import current_crosswalk
from tracker.extensions import db

URL = "/api/v1/crosswalks/2024/2025/official"


def _codes(maps: TwoMaps) -> tuple[str, list[str]]:
    return unit_shapes(maps.old)[0][0], [code for code, _, _ in unit_shapes(maps.new)][:2]


def _crosswalks() -> int:
    return db.session.scalar(select(func.count()).select_from(Crosswalk))


def test_a_json_list_wins_where_it_speaks_and_households_are_re_assigned(client, tmp_path: Path) -> None:
    maps = load_two_maps(tmp_path)
    old, new = _codes(maps)
    store([record("90001", lat=21.05, lon=104.05, declared=old)], at("2025-03-01 09:00"))
    response = client.post(URL, headers=bearer(), json={"source_name": "QĐ 19/2025", "links": [
        {"old_code": old, "new_code": new[0], "share": 0.25}, {"old_code": old, "new_code": new[1], "share": 0.75}]})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["source"], body["source_name"], body["current"]) == ("official", "QĐ 19/2025", True)
    mine = {link["new_code"]: (link["share"], link["source"]) for link in body["links"] if link["old_code"] == old}
    assert mine == {new[0]: (0.25, "official"), new[1]: (0.75, "official")}
    assert {link["source"] for link in body["links"] if link["old_code"] != old} == {"geometry"}
    assert current_crosswalk(maps.old, maps.new, compute=False).id == body["id"]
    events = db.session.scalars(select(AuditEvent.object_id).where(AuditEvent.action == "households.reassign")).all()
    assert sorted(events) == ["2024", "2025"]


def test_a_csv_or_xlsx_file_goes_the_same_way(client, tmp_path: Path) -> None:
    maps = load_two_maps(tmp_path)
    old, new = _codes(maps)
    text = f"old_code,new_code,share,old_name\n{old},{new[0]},,x\n"
    response = client.post(f"{URL}.csv", headers={**bearer(), "Content-Type": "text/csv"}, data=text.encode())
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["source_name"] == "official.csv"
    book = Workbook()
    book.active.append(["old_code", "new_code", "share"])
    book.active.append([old, new[1], 1])
    data = io.BytesIO()
    book.save(data)
    response = client.post(f"{URL}.xlsx?source_name=list.xlsx", headers=bearer(), data=data.getvalue())
    assert response.status_code == 201, response.get_json()
    links = {link["new_code"] for link in response.get_json()["links"] if link["old_code"] == old}
    assert links == {new[1]} and _crosswalks() == 2


def test_a_bad_list_names_each_problem_and_stores_nothing(client, tmp_path: Path) -> None:
    maps = load_two_maps(tmp_path)
    old, new = _codes(maps)
    response = client.post(URL, headers=bearer(), json={"links": [
        {"old_code": old, "new_code": new[0], "share": 0.5}, {"old_code": "99999", "new_code": new[0]},
        {"old_code": old, "new_code": "88888", "share": 0.3}]})
    problems = json_error(response, 422, "crosswalk_refused")["fields"]["links"]
    assert problems == ["row 3: old code 99999 is not in the old boundary set",
                        "row 4: new code 88888 is not in the new boundary set",
                        f"old code {old}: shares sum to 0.8, not 1"]
    bad_file = client.post(f"{URL}.csv", headers=bearer(), data=b"old,new\n1,2\n")
    assert "missing column(s) old_code, new_code" in json_error(bad_file, 422)["fields"]["file"][0]
    unknown_field = client.post(URL, headers=bearer(), json={"links": [{"old_code": old, "new": "x"}]})
    assert json_error(unknown_field, 422)["fields"]
    assert json_error(client.post(f"{URL}.pdf", headers=bearer(), data=b"x"), 404)
    assert _crosswalks() == 0


def test_sets_that_do_not_overlap_are_refused(client, tmp_path: Path) -> None:
    load_two_maps(tmp_path)
    far = write_collection(tmp_path / "far.geojson", [
        feature("80001", "Xã Xa", square(10.0, 10.0, 0.1), province="Tỉnh Xa")])
    import_boundary_set("far", far)
    db.session.commit()
    old = unit_shapes(get_set("2024"))[0][0]
    response = client.post("/api/v1/crosswalks/2024/far/official", headers=bearer(),
                           json={"links": [{"old_code": old, "new_code": "80001"}]})
    assert "boundary sets 2024 and far do not overlap" in " ".join(json_error(response, 422)["fields"]["links"])
    assert _crosswalks() == 0


def test_only_managers_load_a_list(client, tmp_path: Path) -> None:
    maps = load_two_maps(tmp_path)
    old, new = _codes(maps)
    body = {"links": [{"old_code": old, "new_code": new[0]}]}
    assert json_error(client.post(URL, headers=bearer("viewer"), json=body), 403)
    assert json_error(client.post(URL, headers=bearer("commune_officer", (old,)), json=body), 403)
    assert json_error(client.post(URL, json=body), 401)
    assert _crosswalks() == 0
