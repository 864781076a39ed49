"""``flask plans import`` on good and bad files, and the plans API."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from tests.progress_builders import bearer, load_province, plan
from tracker.extensions import db
from tracker.plans.models import PlanRevision, PlanTarget

HEADER = "commune_code,new_build,repair,budget_vnd\n"


def _csv(tmp_path: Path, body: str, name: str = "plan.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(header + body, encoding="utf-8")
    return path


def _import(runner, path: Path, *extra: str, effective: str = "2025-01-01", deadline: str = "2025-05-19"):
    return runner.invoke(args=["plans", "import", str(path), "--name", "Thử 2025", "--deadline", deadline,
                               "--effective", effective, "--set", "t", *extra])


def _revisions() -> int:
    return db.session.scalar(select(func.count()).select_from(PlanRevision))


def test_import_csv_creates_a_revision(runner, tmp_path: Path) -> None:
    load_province(tmp_path)
    path = _csv(tmp_path, "90001,10,2,660000000\n90002,5,0,300000000\n")
    result = _import(runner, path)
    assert result.exit_code == 0, result.output
    assert "revision 1 effective 2025-01-01" in result.output
    assert "2 communes, 15 new builds, 2 repairs, 960,000,000 VND" in result.output
    targets = {t.commune_code: (t.new_build, t.repair, t.budget_vnd) for t in db.session.scalars(select(PlanTarget))}
    assert targets == {"90001": (10, 2, 660_000_000), "90002": (5, 0, 300_000_000)}


def test_reimporting_the_same_file_changes_nothing(runner, tmp_path: Path) -> None:
    load_province(tmp_path)
    path = _csv(tmp_path, "90001,10,2,660000000\n")
    assert _import(runner, path).exit_code == 0
    again = _import(runner, path)
    assert again.exit_code == 0 and "unchanged" in again.output
    assert _revisions() == 1


def test_a_revision_with_a_later_effective_date_is_added(runner, tmp_path: Path) -> None:
    load_province(tmp_path)
    assert _import(runner, _csv(tmp_path, "90001,10,2,660000000\n")).exit_code == 0
    result = _import(runner, _csv(tmp_path, "90001,12,2,780000000\n", "v2.csv"), effective="2025-04-20")
    assert result.exit_code == 0, result.output
    assert "revision 2 effective 2025-04-20" in result.output
    assert _revisions() == 2


def test_import_xlsx_with_leading_zeros_lost_by_excel(runner, tmp_path: Path) -> None:
    from tests.helpers import feature, square, write_collection
    from tracker.boundaries.service import import_boundary_set

    path = write_collection(tmp_path / "c.geojson", [feature("03871", "Pắc Ngà", square(104, 21, 0.1))])
    import_boundary_set("t", path)
    db.session.commit()
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Commune_Code", "new_build", "repair", "budget_vnd", "commune_name"])
    sheet.append([3871, 7, 1.0, 450000000, "Pắc Ngà"])  # Excel turned "03871" into a number
    sheet.append([None, None, None, None, None])  # trailing empty row
    xlsx = tmp_path / "plan.xlsx"
    workbook.save(xlsx)
    result = _import(runner, xlsx)
    assert result.exit_code == 0, result.output
    target = db.session.scalar(select(PlanTarget))
    assert (target.commune_code, target.new_build, target.repair) == ("03871", 7, 1)


# The first data row (row 2 of the file) is good; the bad one is row 3.
BAD_ROWS = [
    ("99999,1,0,0\n", "row 3: commune 99999 is not in the boundary set"),
    ("90001,-1,0,0\n", "row 3: new_build must be a whole number"),
    ("90001,1.5,0,0\n", "row 3: new_build must be a whole number"),
    ("90001,abc,0,0\n", "row 3: new_build must be a whole number"),
    ("90001,1,²,0\n", "row 3: repair must be a whole number"),
    ("90001,1,0,99999999999999999999\n", "row 3: budget_vnd must be a whole number"),
    ("90001,1,0,0\n90001,2,0,0\n", "row 4: commune 90001 repeats row 3"),
    (",1,0,0\n", "row 3: commune_code is missing"),
    ("90001,1,0,0,surprise\n", "row 3: has values beyond the last named column"),
]


@pytest.mark.parametrize(("body", "message"), BAD_ROWS)
def test_bad_rows_are_listed_and_nothing_is_imported(runner, tmp_path: Path, body: str, message: str) -> None:
    load_province(tmp_path)
    result = _import(runner, _csv(tmp_path, "90002,1,1,90000000\n" + body))
    assert result.exit_code == 1
    assert "nothing imported" in result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert _revisions() == 0


def test_every_bad_row_is_reported_at_once(runner, tmp_path: Path) -> None:
    load_province(tmp_path)
    result = _import(runner, _csv(tmp_path, "99999,1,0,0\n90001,x,0,0\n90002,1,-3,0\n"))
    assert result.exit_code == 1
    assert "3 problem(s)" in result.output
    for line in ("row 2: commune 99999", "row 3: new_build", "row 4: repair"):
        assert line in result.output


BAD_FILES = [
    ("plan.csv", "commune,new_build,repair,budget_vnd\n90001,1,0,0\n", "missing column(s) commune_code"),
    ("plan.csv", "commune_code,new_build,repairs,budget_vnd\n90001,1,0,0\n", "unknown column(s) repairs"),
    ("plan.csv", "", "the file is empty"),
    ("plan.csv", HEADER, "no plan rows"),
    ("plan.txt", HEADER, "unsupported file type"),
    ("plan.xlsx", "this is not a workbook", "not a readable XLSX workbook"),
    ("plan.csv", "commune_code,new_build,,budget_vnd\n", "has no name"),
    ("plan.csv", "commune_code,new_build,new_build,budget_vnd\n", "repeats new_build"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_FILES)
def test_bad_files_are_refused_with_a_message(runner, tmp_path: Path, name: str, content: str, message: str) -> None:
    load_province(tmp_path)
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = _import(runner, path)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert _revisions() == 0


def test_non_utf8_file_is_refused(runner, tmp_path: Path) -> None:
    load_province(tmp_path)
    path = tmp_path / "plan.csv"
    path.write_bytes((HEADER + "90001,1,0,0\nXã Một\n").encode("utf-16"))
    result = _import(runner, path)
    assert result.exit_code == 1
    assert "not UTF-8" in result.output


def test_missing_file_unknown_set_bad_dates(runner, tmp_path: Path) -> None:
    load_province(tmp_path)
    path = _csv(tmp_path, "90001,1,0,0\n")
    assert "no such file" in _import(runner, tmp_path / "nope.csv").output
    result = runner.invoke(args=["plans", "import", str(path), "--name", "x", "--deadline", "2025-05-19",
                                 "--effective", "2025-01-01", "--set", "nope"])
    assert result.exit_code == 2 and "no boundary set named 'nope'" in result.output
    result = _import(runner, path, deadline="19/05/2025")
    assert result.exit_code == 2 and "--deadline" in result.output
    result = _import(runner, path, deadline="2024-12-31")
    assert result.exit_code == 1 and "before the effective date" in result.output
    assert _revisions() == 0


def test_semicolon_csv_with_bom_from_excel(runner, tmp_path: Path) -> None:
    load_province(tmp_path)
    path = tmp_path / "plan.csv"
    path.write_bytes("\ufeffcommune_code;new_build;repair;budget_vnd\r\n90001;3;1;210000000\r\n".encode())
    result = _import(runner, path)
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(PlanTarget.new_build)) == 3


# --- API --------------------------------------------------------------------


def _two_revisions(tmp_path: Path) -> None:
    load_province(tmp_path)
    plan({"90001": (10, 2), "90002": (5, 0)}, date(2025, 1, 1))
    plan({"90001": (12, 2), "90002": (5, 1), "90003": (1, 0)}, date(2025, 4, 20), deadline=date(2025, 5, 19))


def test_list_plans_with_revisions(client, tmp_path: Path) -> None:
    _two_revisions(tmp_path)
    response = client.get("/api/v1/plans", headers=bearer())
    assert response.status_code == 200, response.json
    [body] = response.json
    assert body["name"] == "Thử 2025" and body["boundary_set"] == "t"
    assert body["in_force"] == 2
    first, second = body["revisions"]
    assert first["totals"] == {"communes": 2, "new_build": 15, "repair": 2, "total": 17, "budget_vnd": 960_000_000}
    assert second["effective_date"] == "2025-04-20" and second["totals"]["total"] == 21


def test_plan_detail_by_date_and_by_number(client, tmp_path: Path) -> None:
    _two_revisions(tmp_path)
    headers = bearer()
    april = client.get("/api/v1/plans/Thử 2025?as_of=2025-04-16", headers=headers).json
    assert april["revision"]["number"] == 1
    assert [t["commune_code"] for t in april["targets"]] == ["90001", "90002"]
    assert april["targets"][0] == {
        "commune_code": "90001", "commune_name": "Xã Một", "district_code": "tinh-thu:huyen-a",
        "new_build": 10, "repair": 2, "total": 12, "budget_vnd": 660_000_000,
    }
    second = client.get("/api/v1/plans/Th%E1%BB%AD%202025?revision=2", headers=headers).json
    assert second["revision"]["number"] == 2 and len(second["targets"]) == 3
    before = client.get("/api/v1/plans/Thử 2025?as_of=2024-12-31", headers=headers).json
    assert before["revision"] is None and before["targets"] == []


def test_plan_detail_is_scoped_for_a_commune_officer(client, tmp_path: Path) -> None:
    _two_revisions(tmp_path)
    body = client.get("/api/v1/plans/Thử 2025", headers=bearer("commune_officer", ("90002",))).json
    assert [t["commune_code"] for t in body["targets"]] == ["90002"]
    assert body["revision"]["totals"]["total"] == 6


@pytest.mark.parametrize(("url", "status", "field"), [
    ("/api/v1/plans/nope", 404, None),
    ("/api/v1/plans/Thử 2025?revision=9", 404, "revision"),
    ("/api/v1/plans/Thử 2025?revision=abc", 422, "revision"),
    ("/api/v1/plans/Thử 2025?revision=0", 422, "revision"),
    ("/api/v1/plans/Thử 2025?as_of=2025-02-30", 422, "as_of"),
    ("/api/v1/plans/Thử 2025?as_of=yesterday", 422, "as_of"),
    ("/api/v1/plans/Thử 2025?revision=1&as_of=2025-01-01", 422, "revision"),
    ("/api/v1/plans/Thử 2025?asof=2025-01-01", 422, "asof"),
    ("/api/v1/plans/' OR 1=1 --", 404, None),
])
def test_plan_api_errors(client, tmp_path: Path, url: str, status: int, field: str | None) -> None:
    _two_revisions(tmp_path)
    response = client.get(url, headers=bearer())
    assert response.status_code == status, response.json
    assert response.is_json and "error" in response.json
    if field:
        assert field in response.json["error"]["fields"]


def test_plans_need_a_token(client, tmp_path: Path) -> None:
    _two_revisions(tmp_path)
    for url in ("/api/v1/plans", "/api/v1/plans/Thử 2025"):
        response = client.get(url)
        assert response.status_code == 401
        assert response.json["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/plans", headers={"Authorization": "Bearer nonsense"}).status_code == 401
