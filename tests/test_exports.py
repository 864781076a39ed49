"""Exports: progress and households as XLSX and CSV, opened and checked."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.progress_builders import at, bearer, record, store
from tests.test_progress import AS_OF, REPORT_TIME, scenario


def _xlsx(response):
    assert response.status_code == 200, response.data[:500]
    assert response.headers.getlist("Content-Type") == [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
    workbook = load_workbook(io.BytesIO(response.data))
    return workbook.worksheets[0]


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.data[:500]
    assert response.headers.getlist("Content-Type") == ["text/csv; charset=utf-8"]
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _table(sheet) -> tuple[dict[str, object], list[str], list[list[object]]]:
    """(header block, column titles, data rows) of an exported sheet."""
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    blank = next(i for i, r in enumerate(rows) if all(v is None for v in r))
    block = {r[0]: r[1] for r in rows[:blank]}
    return block, rows[blank + 1], rows[blank + 2:]


def test_progress_xlsx_in_vietnamese(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    response = client.get(f"/api/v1/export/progress.xlsx?as_of={AS_OF}&known_at={REPORT_TIME}", headers=bearer())
    assert "progress-commune-2025-04-16.xlsx" in response.headers["Content-Disposition"]
    sheet = _xlsx(response)
    block, titles, rows = _table(sheet)
    assert "Báo cáo tiến độ xóa nhà tạm, nhà dột nát" in block
    assert block["Kế hoạch"] == "Thử 2025 — điều chỉnh lần 1, hiệu lực 01/01/2025, hạn 19/05/2025"
    assert block["Số liệu đến ngày"] == datetime(2025, 4, 16)  # a real Excel date, shown dd/mm/yyyy
    assert block["Dữ liệu máy chủ nhận đến"] == datetime(2025, 4, 16, 17, 0)  # Vietnam time
    assert block["Cấp"] == "Xã"
    as_of_cell = sheet.cell(row=list(block).index("Số liệu đến ngày") + 1, column=2)
    assert as_of_cell.is_date and as_of_cell.number_format == "dd/mm/yyyy"
    assert titles[:6] == ["Mã", "Tên đơn vị", "Cấp", "Kế hoạch xây mới", "Kế hoạch sửa chữa", "Kế hoạch tổng"]
    by_code = {r[0]: dict(zip(titles, r)) for r in rows}
    one = by_code["90001"]
    assert one["Tên đơn vị"] == "Xã Một" and one["Kế hoạch tổng"] == 4 and one["Hoàn thành tổng"] == 2
    assert one["Tỷ lệ hoàn thành"] == 0.5
    assert one["Kinh phí kế hoạch (đồng)"] == 210_000_000
    assert one["Quỹ Vì người nghèo (đồng)"] == 10_000_000
    assert one["Hạn hoàn thành"] == datetime(2025, 5, 19)
    assert by_code["90002"]["Nguy cơ chậm"] == "Có"
    total = rows[-1]
    assert total[1] == "Tổng cộng" and total[titles.index("Kế hoạch tổng")] == 8
    # VND number formats on the data cells
    header_rows = len(block) + 2
    first_data = list(sheet.iter_rows(min_row=header_rows + 1, max_row=header_rows + 1))[0]
    formats = {titles[i]: c.number_format for i, c in enumerate(first_data)}
    assert formats["Kinh phí kế hoạch (đồng)"] == "#,##0"
    assert formats["Tỷ lệ hoàn thành"] == "0.00%"
    assert formats["Hạn hoàn thành"] == "dd/mm/yyyy"
    assert first_data[titles.index("Hạn hoàn thành")].is_date


def test_xlsx_is_set_up_to_filter_and_print(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    for url in (f"/api/v1/export/progress.xlsx?as_of={AS_OF}", f"/api/v1/export/households.xlsx?as_of={AS_OF}"):
        sheet = _xlsx(client.get(url, headers=bearer()))
        block, titles, rows = _table(sheet)
        titles_row = len(block) + 2
        last = sheet.cell(row=titles_row, column=len(titles)).column_letter
        assert sheet.freeze_panes == f"A{titles_row + 1}"
        assert sheet.auto_filter.ref == f"A{titles_row}:{last}{titles_row + len(rows)}"
        assert sheet.print_title_rows == f"${titles_row}:${titles_row}"
        setup = sheet.page_setup
        assert (setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight) == ("landscape", 9, 1, 0)
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        header = sheet.oddHeader
        assert header.center.text == "Thử 2025 — điều chỉnh lần 1, hiệu lực 01/01/2025, hạn 19/05/2025"
        assert header.right.text == "Số liệu đến ngày 16/04/2025"
        assert header.left.text.startswith(("Báo cáo tiến độ", "Danh sách hộ"))


def test_progress_xlsx_in_english_by_district(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    response = client.get(f"/api/v1/export/progress.xlsx?lang=en&level=district&as_of={AS_OF}", headers=bearer())
    block, titles, rows = _table(_xlsx(response))
    assert block["As of"] == datetime(2025, 4, 16) and block["Level"] == "District"
    assert block["Plan"] == "Thử 2025 — revision 1, effective 2025-01-01, deadline 2025-05-19"
    assert titles[:3] == ["Code", "Name", "Level"]
    assert [r[1] for r in rows] == ["Huyện A", "Huyện B", "Total"]


def test_progress_csv_matches_the_api(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    headers = bearer()
    lines = _csv(client.get(f"/api/v1/export/progress.csv?lang=en&as_of={AS_OF}&known_at={REPORT_TIME}",
                            headers=headers))
    blank = lines.index([])
    block = dict(lines[:blank])
    assert block["As of"] == "2025-04-16" and block["Known at"] == "2025-04-16T17:00:00+07:00"
    titles, rows = lines[blank + 1], lines[blank + 2:]
    api = client.get(f"/api/v1/progress?as_of={AS_OF}&known_at={REPORT_TIME}", headers=headers).json
    for row, expected in zip(rows, api["rows"]):
        values = dict(zip(titles, row))
        assert values["Code"] == expected["code"]
        assert int(values["Completed total"]) == expected["completed"]["total"]
        assert int(values["Planned budget (VND)"]) == expected["funding"]["planned"]
        if expected["percent_complete"] is not None:
            assert float(values["Percent complete"]) == expected["percent_complete"]
    assert rows[-1][1] == "Total"


def test_households_xlsx_masks_national_ids_for_viewers(client, tmp_path: Path) -> None:
    ids = scenario(tmp_path)
    manager = _table(_xlsx(client.get(f"/api/v1/export/households.xlsx?as_of={AS_OF}", headers=bearer())))
    viewer = _table(_xlsx(client.get(f"/api/v1/export/households.xlsx?as_of={AS_OF}",
                                     headers=bearer("viewer", ("tinh-thu",)))))
    block, titles, rows = manager
    assert block["Số liệu đến ngày"] == datetime(2025, 4, 16)
    by_id = {r[0]: dict(zip(titles, r)) for r in rows}
    assert set(by_id) == set(ids.values())
    h1 = by_id[ids["h1"]]
    assert h1["Số CCCD"] == "014085001234" and h1["Chủ hộ"] == "Lò Văn Việt" and h1["Xã"] == "Xã Một"
    assert h1["Huyện"] == "Huyện A" and h1["Trạng thái"] == "Hoàn thành" and h1["Loại hỗ trợ"] == "Xây mới"
    assert h1["Quỹ Vì người nghèo (đồng)"] == 10_000_000 and h1["Tổng kinh phí (đồng)"] == 70_000_000
    # h2 was handed over on April 20: on April 16 it was "completed" and the hand-over date is not shown yet
    h2 = by_id[ids["h2"]]
    assert h2["Trạng thái"] == "Hoàn thành" and h2["Ngày bàn giao"] is None
    assert by_id[ids["h7"]]["Cần rà soát"] == "Có"
    _, vtitles, vrows = viewer
    assert {dict(zip(vtitles, r))["Số CCCD"] for r in vrows} == {"********1234"}


def test_households_csv_in_english_with_filters(client, tmp_path: Path) -> None:
    ids = scenario(tmp_path)
    lines = _csv(client.get("/api/v1/export/households.csv?lang=en&status=completed&commune=90001"
                            f"&as_of={AS_OF}", headers=bearer()))
    blank = lines.index([])
    block = dict(lines[:blank])
    assert block["Filters"] == "commune=90001, status=completed"
    titles, rows = lines[blank + 1], lines[blank + 2:]
    assert titles[:3] == ["Record ID", "Commune code", "Commune"]
    assert sorted(r[0] for r in rows) == sorted([ids["h1"], ids["h2"]])
    row = dict(zip(titles, rows[0]))
    assert row["Status"] == "Completed" and row["Completed on"].startswith("2025-04-1")


def test_officer_exports_only_their_commune(client, tmp_path: Path) -> None:
    ids = scenario(tmp_path)
    lines = _csv(client.get("/api/v1/export/households.csv", headers=bearer("commune_officer", ("90004",))))
    blank = lines.index([])
    assert [r[0] for r in lines[blank + 2:]] == [ids["h6"]]


def test_formula_like_text_is_never_a_formula(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    store([record("90003", head="=HYPERLINK(\"http://x\",\"y\")")], received_at=at("2025-04-16 11:00"))
    lines = _csv(client.get("/api/v1/export/households.csv?commune=90003", headers=bearer()))
    assert lines[-1][5] == "'=HYPERLINK(\"http://x\",\"y\")"
    sheet = _xlsx(client.get("/api/v1/export/households.xlsx?commune=90003", headers=bearer()))
    _, titles, rows = _table(sheet)
    cell_value = rows[-1][titles.index("Chủ hộ")]
    assert cell_value == "=HYPERLINK(\"http://x\",\"y\")"
    header_rows = sum(1 for _ in sheet.iter_rows()) - len(rows)
    cell = list(sheet.iter_rows(min_row=header_rows + 1))[0][titles.index("Chủ hộ")]
    assert cell.data_type == "s"


def test_export_with_no_households_still_has_headers(client, tmp_path: Path) -> None:
    from tests.progress_builders import load_province

    load_province(tmp_path)
    block, titles, rows = _table(_xlsx(client.get("/api/v1/export/households.xlsx", headers=bearer())))
    assert titles[0] == "Mã hồ sơ" and rows == []
    assert block["Kế hoạch"] == "(không có kế hoạch)"


@pytest.mark.parametrize(("url", "field"), [
    ("/api/v1/export/progress.xlsx?lang=fr", "lang"),
    ("/api/v1/export/progress.csv?level=village", "level"),
    ("/api/v1/export/households.xlsx?status=finished", "status"),
    ("/api/v1/export/households.csv?as_of=2025-04-31", "as_of"),
    ("/api/v1/export/households.csv?format=pdf", "format"),
])
def test_export_bad_queries(client, tmp_path: Path, url: str, field: str) -> None:
    scenario(tmp_path)
    response = client.get(url, headers=bearer())
    assert response.status_code == 422 and field in response.json["error"]["fields"]


def test_exports_need_a_token(client, tmp_path: Path) -> None:
    scenario(tmp_path)
    for url in ("/api/v1/export/progress.xlsx", "/api/v1/export/progress.csv",
                "/api/v1/export/households.xlsx", "/api/v1/export/households.csv"):
        response = client.get(url)
        assert response.status_code == 401 and response.is_json
    assert client.get("/api/v1/export/progress.pdf", headers=bearer()).status_code == 404


def test_csv_writer_streams_in_chunks() -> None:
    from tracker.exports.writers import Column, csv_stream

    rows = ((i, f"Hộ {i}", date(2025, 4, 1)) for i in range(1200))
    chunks = list(csv_stream([("Title", "")], [Column("n", "Số", "No", "int"), Column("t", "Tên", "Name"),
                                               Column("d", "Ngày", "Date", "date")], rows, "vi"))
    assert len(chunks) >= 3  # header, then batches of 500 rows
    text = b"".join(chunks).decode("utf-8")
    assert text.count("\r\n") == 1 + 1 + 1 + 1200 and "1199,Hộ 1199,2025-04-01" in text


def test_a_pushed_household_is_exported_with_the_fields_of_its_latest_revision(client, world) -> None:
    from sqlalchemy import select

    from tests.sync_support import bearer as token_header
    from tests.sync_support import household, push
    from tracker.extensions import db
    from tracker.households.models import HouseholdRevision

    auth = world["tokens"]["manager"]
    first = household(declared_commune="90001", household_head="Hộ Xuất", village="Bản Một", ethnicity="Mông",
                      members=3, national_id="001122334455")
    answer = push(client, auth, [first], device="manager-phone")
    assert answer.get_json()["results"][0]["result"] == "created", answer.get_json()
    edit = {**first, "base_revision": 1, "village": "Bản Hai & Ba", "ethnicity": "Dao", "members": 4,
            "national_id": None, "captured_at": "2025-04-03T08:00:00+07:00"}
    assert push(client, auth, [edit], device="manager-phone").get_json()["results"][0]["result"] == "updated"
    stored = db.session.execute(select(
        HouseholdRevision.revision, HouseholdRevision.village, HouseholdRevision.ethnicity, HouseholdRevision.members,
        HouseholdRevision.national_id).where(HouseholdRevision.household_id == first["id"])
        .order_by(HouseholdRevision.revision)).all()
    assert [tuple(r) for r in stored] == [(1, "Bản Một", "Mông", 3, "001122334455"), (2, "Bản Hai & Ba", "Dao", 4, None)]
    _, titles, rows = _table(_xlsx(client.get("/api/v1/export/households.xlsx?lang=en", headers=token_header(auth))))
    row = next(dict(zip(titles, r)) for r in rows if r[0] == first["id"])
    assert (row["Village"], row["Ethnicity"], row["Members"], row["National ID"], row["Revision"]) == (
        "Bản Hai & Ba", "Dao", 4, None, 2)
    a = next(dict(zip(titles, r)) for r in rows if r[0] == world["a"]["id"])
    assert (a["Village"], a["Members"], a["National ID"]) == (world["a"]["village"], world["a"]["members"],
                                                                world["a"]["national_id"])
    lines = _csv(client.get("/api/v1/export/households.csv?lang=en", headers=token_header(auth)))
    blank = lines.index([])
    line = next(dict(zip(lines[blank + 1], r)) for r in lines[blank + 2:] if r[0] == first["id"])
    assert (line["Village"], line["Ethnicity"], line["Members"], line["National ID"]) == ("Bản Hai & Ba", "Dao", "4", "")
