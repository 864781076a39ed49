"""``GET /api/v1/progress``: roll-ups on hand-built scenarios, time travel, scope, errors."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from tests.progress_builders import at, bearer, centre, load_province, plan, record, revise, store
from tracker.extensions import db

AS_OF = "2025-04-16"
REPORT_TIME = "2025-04-16T17:00:00+07:00"
FIELDS = {"code", "name", "level", "planned", "completed", "started", "percent_complete", "funding", "deadline",
          "days_left", "required_per_day", "achieved_per_day", "projected_finish", "handed_over", "at_risk",
          "needs_review"}


def _dates(**stages: str) -> dict[str, str]:
    return dict(stages)


def scenario(tmp_path: Path) -> dict[str, str]:
    """The province, plan revision 1 and seven households received on April 16."""
    load_province(tmp_path)
    plan({"90001": (3, 1), "90002": (2, 0), "90003": (1, 1)}, date(2025, 1, 1))
    households = {
        # 90001: two new builds finished inside the 14-day window, a repair under way, one withdrawn
        "h1": record("90001", status="completed", dates=_dates(started="2025-02-01", completed="2025-04-10"),
                     funding=[("central_budget", 60_000_000), ("social_fund", 10_000_000)]),
        "h2": record("90001", status="handed_over",
                     dates=_dates(started="2025-02-01", completed="2025-04-12", handed_over="2025-04-20")),
        "h3": record("90001", status="started", support_type="repair", dates=_dates(started="2025-02-10"),
                     funding=[("central_budget", 30_000_000)]),
        "h4": record("90001", status="withdrawn", dates=_dates(approved="2025-01-20", withdrawn="2025-03-01")),
        # 90002: one handed over in March; one on the border with 90002, declared 90002 (ambiguous)
        "h5": record("90002", status="handed_over",
                     dates=_dates(started="2025-01-10", completed="2025-03-01", handed_over="2025-03-15")),
        "h7": record("90002", status="started", support_type="repair", dates=_dates(started="2025-03-01"),
                     lat=21.05, lon=104.1, accuracy=300.0, declared="90002", funding=[]),
        # 90004 has no plan at all
        "h6": record("90004", status="completed", dates=_dates(started="2025-03-01", completed="2025-04-05")),
    }
    results = store(list(households.values()), received_at=at("2025-04-16 10:00"))
    assert {r.result for r in results} == {"created"}
    return {key: rec["id"] for key, rec in households.items()}


def get(client, url: str, headers: dict[str, str] | None = None) -> Any:
    response = client.get(url, headers=headers if headers is not None else bearer())
    assert response.status_code == 200, response.json
    return response.json


def rows_by_code(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["code"]: row for row in body["rows"]}


def test_commune_rows_follow_the_contract(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    body = get(client, f"/api/v1/progress?level=commune&as_of={AS_OF}&known_at={REPORT_TIME}")
    assert body["level"] == "commune" and body["as_of"] == AS_OF and body["boundary_set"] == "t"
    assert body["plan"] == {"name": "Thử 2025", "revision": 1, "effective_date": "2025-01-01",
                            "deadline": "2025-05-19"}
    rows = rows_by_code(body)
    assert list(rows) == ["90001", "90002", "90003", "90004"]
    for row in rows.values():
        assert FIELDS <= set(row)

    one = rows["90001"]
    assert (one["name"], one["level"]) == ("Xã Một", "commune")
    assert one["planned"] == {"new_build": 3, "repair": 1, "total": 4}
    assert one["started"] == {"new_build": 2, "repair": 1, "total": 3}
    assert one["completed"] == {"new_build": 2, "repair": 0, "total": 2}
    assert one["handed_over"] == {"new_build": 0, "repair": 0, "total": 0}  # handed over on April 20
    assert one["withdrawn"] == 1 and one["households"] == 3 and one["needs_review"] == 0
    assert one["percent_complete"] == 50.0
    assert one["funding"] == {
        "planned": 210_000_000, "recorded": 160_000_000,
        "by_source": {"central_budget": 150_000_000, "local_budget": 0, "social_fund": 10_000_000,
                      "enterprise": 0, "household": 0, "other": 0},
    }
    assert one["deadline"] == "2025-05-19" and one["days_left"] == 33
    assert one["remaining"] == 2 and one["required_per_day"] == 0.06
    assert one["achieved_per_day"] == 0.14  # 2 in the 14 days ending April 16
    assert one["projected_finish"] == "2025-04-30" and one["at_risk"] is False

    two = rows["90002"]
    assert two["completed"]["total"] == 1 and two["handed_over"] == {"new_build": 1, "repair": 0, "total": 1}
    assert two["started"] == {"new_build": 1, "repair": 1, "total": 2}
    assert two["needs_review"] == 1  # the border household, counted where the assignment put it
    assert two["achieved_per_day"] == 0.0 and two["projected_finish"] is None and two["at_risk"] is True

    three = rows["90003"]  # a plan and no households
    assert three["planned"]["total"] == 2 and three["completed"]["total"] == 0
    assert three["percent_complete"] == 0.0 and three["at_risk"] is True and three["households"] == 0

    four = rows["90004"]  # households and no plan
    assert four["planned"]["total"] == 0 and four["completed"]["total"] == 1
    assert four["percent_complete"] is None and four["at_risk"] is False

    totals = body["totals"]
    assert totals["planned"]["total"] == 8 and totals["completed"]["total"] == 4
    assert totals["percent_complete"] == 50.0 and totals["communes_at_risk"] == 2
    assert body["unassigned"] == {"households": 0, "completed": 0, "needs_review": 0}


def test_district_and_province_levels_add_up(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    query = f"as_of={AS_OF}&known_at={REPORT_TIME}"
    districts = rows_by_code(get(client, f"/api/v1/progress?level=district&{query}"))
    assert set(districts) == {"tinh-thu:huyen-a", "tinh-thu:huyen-b"}
    a = districts["tinh-thu:huyen-a"]
    assert (a["name"], a["level"]) == ("Huyện A", "district")
    assert a["planned"] == {"new_build": 5, "repair": 1, "total": 6}
    assert a["completed"]["total"] == 3 and a["needs_review"] == 1 and a["communes_at_risk"] == 1
    assert a["percent_complete"] == 50.0
    assert a["funding"]["planned"] == 330_000_000
    b = districts["tinh-thu:huyen-b"]
    assert b["planned"]["total"] == 2 and b["completed"]["total"] == 1 and b["percent_complete"] == 50.0
    [province] = get(client, f"/api/v1/progress?level=province&{query}")["rows"]
    assert (province["code"], province["level"], province["name"]) == ("tinh-thu", "province", "Tỉnh Thử")
    assert province["planned"]["total"] == 8 and province["completed"]["total"] == 4
    assert province["withdrawn"] == 1 and province["households"] == 6


def test_as_of_counts_by_the_field_dates(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    rows = rows_by_code(get(client, f"/api/v1/progress?as_of=2025-02-05&known_at={REPORT_TIME}"))
    one = rows["90001"]
    assert one["started"]["total"] == 2 and one["completed"]["total"] == 0
    assert one["withdrawn"] == 0 and one["households"] == 3  # h4 was still in the programme
    assert rows["90002"]["started"]["total"] == 1
    assert rows["90004"]["households"] == 0  # h6 entered on March 1
    late = rows_by_code(get(client, f"/api/v1/progress?as_of=2025-04-25&known_at={REPORT_TIME}"))
    assert late["90001"]["handed_over"]["total"] == 1


def test_known_at_reproduces_a_report_after_late_syncs_and_corrections(client, tmp_path: Path) -> None:
    ids = scenario(tmp_path)
    url = f"/api/v1/progress?level=commune&as_of={AS_OF}&known_at={REPORT_TIME}"
    issued = get(client, url)
    # Two days later a phone back in signal pushes a house finished on April 12,
    # and the repair in 90001 is corrected to completed on April 14.
    store([record("90003", status="completed", dates=_dates(started="2025-03-01", completed="2025-04-12"))],
          received_at=at("2025-04-18 09:00"))
    revise(ids["h3"], at("2025-04-18 09:30"), status="completed",
           status_dates={"started": "2025-02-10", "completed": "2025-04-14"})
    assert get(client, url) == issued
    now = rows_by_code(get(client, f"/api/v1/progress?level=commune&as_of={AS_OF}"))
    assert now["90003"]["completed"]["total"] == 1
    assert now["90001"]["completed"] == {"new_build": 2, "repair": 1, "total": 3}
    between = rows_by_code(get(client, f"/api/v1/progress?as_of={AS_OF}&known_at=2025-04-18T09:15:00%2B07:00"))
    assert between["90003"]["completed"]["total"] == 1 and between["90001"]["completed"]["total"] == 2


def test_a_household_received_later_but_withdrawn_is_not_counted(client, tmp_path: Path) -> None:
    ids = scenario(tmp_path)
    revise(ids["h1"], at("2025-04-17 08:00"), status="withdrawn",
           status_dates={"started": "2025-02-01", "withdrawn": "2025-04-15"})
    rows = rows_by_code(get(client, f"/api/v1/progress?as_of={AS_OF}"))
    assert rows["90001"]["completed"]["total"] == 1 and rows["90001"]["withdrawn"] == 2
    assert rows["90001"]["funding"]["recorded"] == 90_000_000
    before = rows_by_code(get(client, f"/api/v1/progress?as_of={AS_OF}&known_at={REPORT_TIME}"))
    assert before["90001"]["completed"]["total"] == 2


def test_the_plan_revision_in_force_on_as_of_is_used(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    plan({"90001": (5, 1), "90002": (2, 0), "90003": (1, 1)}, date(2025, 4, 20), deadline=date(2025, 5, 31),
         created_at=at("2025-04-22 08:00"))
    april = get(client, f"/api/v1/progress?as_of={AS_OF}")
    assert april["plan"]["revision"] == 1 and rows_by_code(april)["90001"]["planned"]["total"] == 4
    may = get(client, "/api/v1/progress?as_of=2025-05-01")
    assert may["plan"]["revision"] == 2 and may["plan"]["deadline"] == "2025-05-31"
    one = rows_by_code(may)["90001"]
    assert one["planned"] == {"new_build": 5, "repair": 1, "total": 6}
    assert one["deadline"] == "2025-05-31" and one["days_left"] == 30
    # Revision 2 was loaded on April 22: a report known on April 21 still used revision 1.
    earlier = get(client, "/api/v1/progress?as_of=2025-05-01&known_at=2025-04-21T12:00:00%2B07:00")
    assert earlier["plan"]["revision"] == 1
    before_any = get(client, "/api/v1/progress?as_of=2024-12-01")
    assert before_any["plan"]["revision"] is None
    assert all(r["planned"]["total"] == 0 and r["deadline"] is None for r in before_any["rows"])


def test_an_outside_point_is_kept_flagged_and_counted(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    # 300 m west of 90001, outside every commune: assigned to the nearest and flagged.
    store([record("90001", lat=21.05, lon=103.997, accuracy=10.0, status="completed",
                  dates=_dates(started="2025-02-01", completed="2025-04-01"))], received_at=at("2025-04-16 11:00"))
    one = rows_by_code(get(client, f"/api/v1/progress?as_of={AS_OF}"))["90001"]
    assert one["completed"]["total"] == 3 and one["needs_review"] == 1


def test_a_commune_officer_sees_only_their_commune(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    headers = bearer("commune_officer", ("90002",))
    body = get(client, f"/api/v1/progress?as_of={AS_OF}", headers)
    assert [r["code"] for r in body["rows"]] == ["90002"]
    [province] = get(client, f"/api/v1/progress?level=province&as_of={AS_OF}", headers)["rows"]
    assert province["planned"]["total"] == 2 and province["completed"]["total"] == 1
    viewer = bearer("viewer", ("tinh-thu:huyen-b",))
    assert [r["code"] for r in get(client, f"/api/v1/progress?as_of={AS_OF}", viewer)["rows"]] == ["90003", "90004"]


def test_defaults_are_today_and_now(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    body = get(client, "/api/v1/progress")
    from tracker.progress.service import today_vn

    assert body["as_of"] == today_vn().isoformat() and body["level"] == "commune"
    assert rows_by_code(body)["90001"]["handed_over"]["total"] == 1


def test_roll_up_runs_a_fixed_number_of_queries(client, app, tmp_path: Path) -> None:
    """The work is one GROUP BY, however many households there are."""
    scenario(tmp_path)
    headers = bearer()
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    get(client, f"/api/v1/progress?as_of={AS_OF}", headers)  # the set's units are cached from here on
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        store([record("90002")], received_at=at("2025-04-16 11:00"))
        statements.clear()
        get(client, f"/api/v1/progress?as_of={AS_OF}", headers)
        few = len(statements)
        store([record("90001") for _ in range(40)], received_at=at("2025-04-16 12:00"))
        statements.clear()
        body = get(client, f"/api/v1/progress?as_of={AS_OF}", headers)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert rows_by_code(body)["90001"]["households"] == 43 and rows_by_code(body)["90002"]["households"] == 3
    assert len(statements) == few
    assert sum("GROUP BY" in s for s in statements) >= 1


@pytest.mark.parametrize(("query", "status", "field"), [
    ("level=county", 422, "level"),
    ("as_of=2025-13-01", 422, "as_of"),
    ("as_of=20250416", 422, "as_of"),
    ("as_of=16/04/2025", 422, "as_of"),
    ("as_of=1900-01-01", 422, "as_of"),
    ("as_of=" + "9" * 5000, 422, "as_of"),
    ("known_at=yesterday", 422, "known_at"),
    ("known_at=2025-04-16T25:00:00%2B07:00", 422, "known_at"),
    ("known_at=2025-04-16", 422, "known_at"),
    ("asof=2025-04-16", 422, "asof"),
    ("set=nope", 404, "set"),
    ("plan=nope", 404, "plan"),
    ("plan=' OR 1=1 --", 404, "plan"),
    ("set=" + "x" * 65, 422, "set"),
    ("level=commune&level=district", 422, "level"),
])
def test_bad_queries_get_precise_json_errors(client, tmp_path: Path, query: str, status: int, field: str) -> None:
    scenario(tmp_path)
    response = client.get(f"/api/v1/progress?{query}", headers=bearer())
    assert response.status_code == status, response.json
    assert response.is_json
    assert field in response.json["error"]["fields"], response.json


def test_unencoded_plus_in_known_at_is_understood(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    body = get(client, f"/api/v1/progress?as_of={AS_OF}&known_at=2025-04-16T17:00:00+07:00")
    assert body["known_at"] == "2025-04-16T10:00:00+00:00"
    naive = get(client, f"/api/v1/progress?as_of={AS_OF}&known_at=2025-04-16T17:00:00")
    assert naive["known_at"] == "2025-04-16T10:00:00+00:00"
    zulu = get(client, f"/api/v1/progress?as_of={AS_OF}&known_at=2025-04-16T10:00:00Z")
    assert zulu == body


def test_plan_of_another_set_and_districts_missing(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    from tests.helpers import feature, square, write_collection
    from tracker.boundaries.service import import_boundary_set

    path = write_collection(tmp_path / "flat.geojson", [feature("80001", "Phường Mới", square(104, 21, 0.2))])
    import_boundary_set("flat", path)
    from tracker.boundaries.service import get_set
    from tracker.households.ledger import reassign_set

    reassign_set(get_set("flat"))
    db.session.commit()
    headers = bearer()
    response = client.get("/api/v1/progress?set=flat&plan=Thử 2025", headers=headers)
    assert response.status_code == 422 and "plan" in response.json["error"]["fields"]
    response = client.get("/api/v1/progress?set=flat&level=district", headers=headers)
    assert response.status_code == 422 and "level" in response.json["error"]["fields"]
    body = get(client, f"/api/v1/progress?set=flat&as_of={AS_OF}", headers)
    assert body["plan"] is None
    assert [r["code"] for r in body["rows"]] == ["80001"] and body["rows"][0]["households"] == 6


def test_progress_needs_a_valid_token(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    assert client.get("/api/v1/progress").status_code == 401
    assert client.get("/api/v1/progress?level=county").status_code == 401  # auth before validation
    response = client.get("/api/v1/progress", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"


def test_no_boundary_set_yet(client) -> None:
    response = client.get("/api/v1/progress", headers=bearer())
    assert response.status_code == 404 and response.is_json


def test_openapi_documents_the_reports(client) -> None:
    spec = client.get("/api/v1/openapi.json").json
    for path in ("/api/v1/progress", "/api/v1/map/communes.geojson", "/api/v1/households.geojson",
                 "/api/v1/export/progress.xlsx", "/api/v1/export/progress.csv", "/api/v1/export/households.xlsx",
                 "/api/v1/export/households.csv", "/api/v1/plans", "/api/v1/plans/{name}"):
        operation = spec["paths"][path]["get"]
        assert operation["security"] == [{"bearerAuth": []}], path
    progress = spec["paths"]["/api/v1/progress"]["get"]
    assert {p["name"] for p in progress["parameters"]} >= {"level", "as_of", "known_at", "set", "plan"}
    row = spec["components"]["schemas"]["ProgressRow"]["properties"]
    assert FIELDS <= set(row)


@pytest.mark.parametrize("level", ["commune", "district", "province"])
def test_the_answer_is_what_the_schema_documents(client, app, tmp_path: Path, level: str) -> None:
    """The view encodes the service's dict directly; it must equal the schema's dump of it."""
    import json

    from schemas.progress import ProgressReportSchema
    from tracker.progress.finish import finished_report
    from tracker.progress.service import progress_report, resolve

    scenario(tmp_path)
    body = get(client, f"/api/v1/progress?level={level}&as_of={AS_OF}&known_at={REPORT_TIME}")
    ctx = resolve(date(2025, 4, 16), at("2025-04-16 17:00"))
    dumped = json.loads(json.dumps(ProgressReportSchema().dump(finished_report(progress_report(ctx, level)).as_dict())))
    assert body == dumped


def test_cached_figures_follow_new_revisions(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    headers = bearer()
    first = rows_by_code(get(client, f"/api/v1/progress?as_of={AS_OF}", headers))
    assert rows_by_code(get(client, f"/api/v1/progress?as_of={AS_OF}", headers)) == first
    store([record("90003", status="completed", dates=_dates(started="2025-03-01", completed="2025-04-01"))],
          received_at=at("2025-04-16 12:00"))
    after = rows_by_code(get(client, f"/api/v1/progress?as_of={AS_OF}", headers))
    assert after["90003"]["completed"]["total"] == first["90003"]["completed"]["total"] + 1
    other_day = rows_by_code(get(client, "/api/v1/progress?as_of=2025-03-15", headers))
    assert other_day["90003"]["completed"]["total"] == 0


def test_each_answer_echoes_its_own_known_at(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    headers = bearer()
    first = get(client, f"/api/v1/progress?as_of={AS_OF}&known_at=2025-06-01T08:00:00%2B07:00", headers)
    second = get(client, f"/api/v1/progress?as_of={AS_OF}&known_at=2025-06-02T08:00:00%2B07:00", headers)
    assert first["known_at"] == "2025-06-01T01:00:00+00:00" and second["known_at"] == "2025-06-02T01:00:00+00:00"
    assert first["rows"] == second["rows"]  # the same figures, remembered once
    mapped = client.get(f"/api/v1/map/communes.geojson?as_of={AS_OF}&known_at=2025-06-03T08:00:00%2B07:00",
                        headers=headers)
    assert json_of(mapped)["known_at"] == "2025-06-03T01:00:00+00:00"


def json_of(response: Any) -> Any:
    import json

    return json.loads(response.data)


def test_a_remembered_report_brought_up_to_date_equals_a_full_count(client, tmp_path: Path) -> None:
    """Syncs recount only their communes; the figures must be those of counting everything again."""
    from flask import current_app

    from tracker.accounts.service import create_user, issue_token
    from tracker.dbtypes import utcnow
    from tracker.progress.service import progress_report, resolve

    ids = scenario(tmp_path)
    user = create_user("manager-rollup", "correct horse battery", "manager", [])
    headers = {"Authorization": f"Bearer {issue_token(user, 'phone-1', timedelta(hours=1)).token}"}
    db.session.commit()

    def report(level: str, scope: frozenset[str] | None = None) -> dict[str, Any]:
        figures = progress_report(resolve(date(2025, 4, 16), utcnow(), scope=scope), level).as_dict()
        figures.pop("known_at")  # "now" at each call; the figures are the same
        return figures

    def full_count(level: str, scope: frozenset[str] | None = None) -> dict[str, Any]:
        current_app.extensions.pop("progress_rollups", None)
        return report(level, scope)

    def held() -> list[Any]:
        return list(current_app.extensions["progress_rollups"].values())

    views = [("commune", None), ("district", None), ("province", None), ("commune", frozenset({"90001", "90003"}))]
    for level, scope in views:
        report(level, scope)
    counted = {id(h.rollup): h.counted_at for h in held()}
    # A late sync in a commune with a plan, a correction stored by hand, and a
    # push moving the only household of 90004 (which has no plan) to 90002.
    store([record("90003", status="completed", dates=_dates(started="2025-03-01", completed="2025-04-12"))],
          received_at=at("2025-04-16 11:00"))
    revise(ids["h3"], at("2025-04-16 11:30"), status="completed",
           status_dates={"started": "2025-02-10", "completed": "2025-04-14"})
    detail = client.get(f"/api/v1/households/{ids['h6']}", headers=headers).json
    lat, lon = centre("90002")
    moved = {**detail["record"], "base_revision": detail["revision"], "declared_commune": "90002",
             "location": {**detail["record"]["location"], "lat": lat, "lon": lon}}
    answer = client.post("/api/v1/sync/push", headers=headers,
                         json={"device_id": "phone-1", "batch_id": "b-1", "households": [moved]})
    assert answer.status_code == 200 and answer.json["results"][0]["result"] == "updated", answer.json
    brought_up_to_date = {(level, scope): report(level, scope) for level, scope in views}
    assert all(h.counted_at == counted.get(id(h.rollup), h.counted_at) for h in held())
    assert {h.counted_at for h in held()} <= set(counted.values())  # recounted commune by commune, not in full
    for (level, scope), figures in brought_up_to_date.items():
        assert figures == full_count(level, scope), (level, scope)
    rows = rows_by_code(brought_up_to_date[("commune", None)])
    assert "90004" not in rows and rows["90002"]["households"] == 3
    assert rows["90001"]["completed"]["repair"] == 1 and rows["90003"]["completed"]["total"] == 1


@pytest.mark.parametrize("scope", [None, frozenset({"90001", "90002"})])
def test_completed_by_day_is_the_reports_completed_total_on_each_day(client, tmp_path: Path, scope) -> None:
    """The burn-up chart's series in one query: the same figure as a report for each of the days."""
    from tracker.dbtypes import utcnow
    from tracker.progress.service import completed_by_day, progress_report, resolve

    scenario(tmp_path)
    # Completed in March, withdrawn in April: counted in between only.
    store([record("90001", status="withdrawn", dates=_dates(started="2025-02-01", completed="2025-03-10",
                                                            withdrawn="2025-04-01"))], received_at=at("2025-04-16 11:00"))
    # Completed far outside every commune, declaring none of the map's: no commune took it, so no row or total
    # counts it (the report's ``unassigned`` does), nor does the chart.
    store([record("90001", status="completed", lat=23.9, lon=108.9, declared="99999")], received_at=at("2025-04-16 11:00"))
    days = [date(2025, 1, 1) + timedelta(days=n) for n in range(0, 130, 3)] + [date(2025, 3, 10), date(2025, 4, 1)]
    known_at = utcnow()
    expected = []
    for day in days:
        totals = progress_report(resolve(day, known_at, scope=scope), "commune").totals
        expected.append(totals["completed"]["total"] if totals else 0)
    series = completed_by_day(resolve(days[-1], known_at, scope=scope), days)
    assert series == expected
    assert series[days.index(date(2025, 3, 10))] > series[days.index(date(2025, 4, 1))] > 0  # the withdrawal shows


def test_a_plan_too_large_for_its_pace_to_reach_has_no_projected_finish(client, tmp_path: Path) -> None:
    """250,000 houses left and one finished in the window: at that pace past the year 9999, so no date and at risk."""
    load_province(tmp_path)
    plan({"90001": (250_000, 0)}, effective=date(2025, 1, 1))
    store([record("90001", status="completed")], at("2025-04-10T18:00"))
    answer = get(client, "/api/v1/progress?level=province&as_of=2025-04-16")
    total = answer["totals"]
    assert (total["completed"]["total"], total["remaining"], total["achieved_per_day"]) == (1, 249_999, 0.07)
    assert (total["projected_finish"], total["at_risk"]) == (None, True)
