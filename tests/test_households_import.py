"""``flask households import``: CSV, XLSX, JSON lines, error reports, re-runs."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from tests.progress_builders import centre, load_province, record
from tracker.extensions import db
from tracker.households.importer import FLAT_COLUMNS
from tracker.households.models import Household, HouseholdRevision, RevisionAssignment

HEADER = ["household_head", "ethnicity", "category", "members", "national_id", "village", "declared_commune",
          "support_type", "status", "started_on", "completed_on", "handed_over_on", "fund_central_budget",
          "fund_social_fund", "lat", "lon", "accuracy_m"]


def _flat(commune: str = "90001", **over) -> list:
    lat, lon = centre(commune)
    values = {"household_head": "Lường Thị Ỏn", "ethnicity": "Thái", "category": "poor", "members": 4,
              "national_id": "014085001234", "village": "Bản Nà Sản", "declared_commune": commune,
              "support_type": "new_build", "status": "handed_over", "started_on": "2022-01-10",
              "completed_on": "2022-04-02", "handed_over_on": "2022-04-15", "fund_central_budget": 40000000,
              "fund_social_fund": 10000000, "lat": lat, "lon": lon, "accuracy_m": 10}
    values.update(over)
    return [values[h] for h in HEADER]


def _write_csv(path: Path, rows: list[list], header: list[str] = HEADER) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _households() -> int:
    return db.session.scalar(select(func.count()).select_from(Household))


def test_csv_import_assigns_communes_and_rerun_does_not_duplicate(runner, tmp_path: Path) -> None:
    load_province(tmp_path)
    path = _write_csv(tmp_path / "old.csv", [_flat("90001"), _flat("90002", household_head="Cầm Văn Khăm"),
                                             _flat("90003", support_type="repair", fund_social_fund="")])
    result = runner.invoke(args=["households", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 rows: 3 created" in result.output
    assert _households() == 3
    communes = sorted(db.session.scalars(select(RevisionAssignment.commune_code)))
    assert communes == ["90001", "90002", "90003"]
    revision = db.session.scalar(select(HouseholdRevision).where(HouseholdRevision.household_head == "Cầm Văn Khăm"))
    assert revision.handed_over_on.isoformat() == "2022-04-15" and revision.fund_central_budget == 40_000_000
    assert revision.data["captured_at"] == "2022-04-15T12:00:00+07:00"  # the last stage date, noon
    again = runner.invoke(args=["households", "import", str(path)])
    assert again.exit_code == 0 and "3 unchanged" in again.output
    assert _households() == 3


def test_bad_rows_are_reported_and_valid_rows_imported(runner, tmp_path: Path) -> None:
    load_province(tmp_path)
    rows = [
        _flat("90001"),
        _flat("90001", category="rich"),
        _flat("90001", members="many", household_head=""),
        _flat("90001", national_id="12345"),
        _flat("90001", status="completed", completed_on="2022-04-02", handed_over_on="2022-04-15"),
        _flat("90001", fund_central_budget="1.5"),
        _flat("90001", lat="abc"),
        _flat("90001", completed_on="2099-01-01"),
        _flat("90002"),
    ]
    path = _write_csv(tmp_path / "mixed.csv", rows)
    result = runner.invoke(args=["households", "import", str(path)])
    assert result.exit_code == 1
    assert "7 row(s) not imported (the valid rows were)" in result.output
    assert "Traceback" not in result.output
    assert _households() == 2
    report = tmp_path / "mixed.errors.csv"
    with open(report, encoding="utf-8-sig") as handle:
        problems = list(csv.DictReader(handle))
    by_row = {}
    for p in problems:
        by_row.setdefault(int(p["row"]), set()).add(p["field"])
    assert by_row == {
        3: {"category"}, 4: {"members", "household_head"}, 5: {"national_id"}, 6: {"status_dates"},
        7: {"fund_central_budget"}, 8: {"lat"}, 9: {"completed_on"},
    }
    assert all(p["message"] for p in problems)


def test_errors_option_and_unwritable_report(runner, tmp_path: Path) -> None:
    load_province(tmp_path)
    path = _write_csv(tmp_path / "a.csv", [_flat(category="x")])
    target = tmp_path / "report.csv"
    result = runner.invoke(args=["households", "import", str(path), "--errors", str(target)])
    assert result.exit_code == 1 and str(target) in result.output and target.is_file()
    result = runner.invoke(args=["households", "import", str(path), "--errors", str(tmp_path / "no" / "r.csv")])
    assert result.exit_code == 1 and "could not write the error report" in result.output


def test_xlsx_import_with_excel_numbers(runner, tmp_path: Path) -> None:
    load_province(tmp_path)
    from datetime import datetime

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    row = _flat("90004")
    row[HEADER.index("national_id")] = 14085001234  # Excel dropped the leading zero
    row[HEADER.index("members")] = 4.0
    row[HEADER.index("completed_on")] = datetime(2022, 4, 2)
    row[HEADER.index("handed_over_on")] = datetime(2022, 4, 15)
    sheet.append(row)
    path = tmp_path / "old.xlsx"
    workbook.save(path)
    result = runner.invoke(args=["households", "import", str(path)])
    assert result.exit_code == 0, result.output
    revision = db.session.scalar(select(HouseholdRevision))
    assert revision.data["national_id"] == "014085001234" and revision.data["members"] == 4
    assert revision.completed_on.isoformat() == "2022-04-02"


def test_jsonl_import_of_phone_records(runner, tmp_path: Path) -> None:
    load_province(tmp_path)
    good = record("90002")
    same_id_other = {**good, "members": 9}
    path = tmp_path / "records.jsonl"
    lines = [json.dumps(good, ensure_ascii=False), "", "{not json", "[1, 2]",
             json.dumps({**record("90003"), "surprise": 1}), json.dumps(good), json.dumps(same_id_other)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(args=["households", "import", str(path)])
    assert result.exit_code == 1
    assert "1 created" in result.output and "1 duplicate" in result.output
    with open(tmp_path / "records.errors.csv", encoding="utf-8-sig") as handle:
        problems = {(int(p["row"]), p["field"]) for p in csv.DictReader(handle)}
    assert problems == {(3, "_line"), (4, "_line"), (5, "surprise"), (7, "id")}
    assert _households() == 1


def test_an_existing_id_with_different_content_is_rejected(runner, tmp_path: Path) -> None:
    load_province(tmp_path)
    first = record("90001")
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(first) + "\n", encoding="utf-8")
    assert runner.invoke(args=["households", "import", str(path)]).exit_code == 0
    path.write_text(json.dumps({**first, "members": 7}) + "\n", encoding="utf-8")
    result = runner.invoke(args=["households", "import", str(path)])
    assert result.exit_code == 1 and "rejected" in result.output
    assert db.session.scalar(select(HouseholdRevision.data)).get("members") == 5


@pytest.mark.parametrize(("name", "content", "message"), [
    ("a.csv", "household_head,category\nX,poor\n", "missing column(s) members"),
    ("a.csv", ",".join(HEADER + ["colour"]) + "\n", "unknown column(s) colour"),
    ("a.csv", ",".join(HEADER) + "\n", "holds no household rows"),
    ("a.jsonl", "\n\n", "holds no household rows"),
    ("a.csv", "", "the file is empty"),
    ("a.pdf", "x", "unsupported file type"),
    ("a.xlsx", "not a zip", "not a readable XLSX workbook"),
])
def test_unreadable_files(runner, tmp_path: Path, name: str, content: str, message: str) -> None:
    load_province(tmp_path)
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(args=["households", "import", str(path)])
    assert result.exit_code == 1, result.output
    assert "nothing imported" in result.output and message in result.output
    assert "Traceback" not in result.output
    assert _households() == 0


def test_unknown_column_is_refused(runner, tmp_path: Path) -> None:
    load_province(tmp_path)
    path = _write_csv(tmp_path / "a.csv", [_flat() + ["blue"]], HEADER + ["colour"])
    result = runner.invoke(args=["households", "import", str(path)])
    assert result.exit_code == 1 and "unknown column(s) colour" in result.output
    assert _households() == 0


def test_missing_file(runner, tmp_path: Path) -> None:
    result = runner.invoke(args=["households", "import", str(tmp_path / "none.csv")])
    assert result.exit_code == 1 and "no such file" in result.output


def test_a_declared_set_column_names_the_map_of_the_declared_commune(runner, tmp_path: Path) -> None:
    load_province(tmp_path)
    header = [*HEADER, "declared_set"]
    path = _write_csv(tmp_path / "maps.csv", [[*_flat("90001"), "t"], [*_flat("90002"), "no-such-map"],
                                              [*_flat("90003"), ""]], header)
    result = runner.invoke(args=["households", "import", str(path)])
    assert result.exit_code == 1 and "1 row(s) not imported" in result.output, result.output
    stored = {r.data["declared_commune"]: r.data.get("declared_set") for r in db.session.scalars(select(HouseholdRevision))}
    assert stored == {"90001": "t", "90003": None}  # an empty cell: the map in force when it was captured
    with open(tmp_path / "maps.errors.csv", encoding="utf-8-sig") as handle:
        [problem] = list(csv.DictReader(handle))
    assert (problem["row"], problem["field"]) == ("3", "declared_set") and "no-such-map" in problem["message"]


def test_flat_columns_cover_the_record() -> None:
    assert {"lat", "lon", "accuracy_m", "fund_enterprise", "withdrawn_on", "captured_at", "id"} <= set(FLAT_COLUMNS)
