"""The streaming XLSX writer, read back with openpyxl."""
from __future__ import annotations

import io
from datetime import date, datetime

from openpyxl import load_workbook

from tracker.exports.xlsx import SheetLayout, column_letter, excel_serial, write_xlsx


def _layout(columns: int, formats: list[str | None]) -> SheetLayout:
    return SheetLayout(title="Hộ 'gia' đình", column_titles=[f"Cột {i}" for i in range(columns)],
                       widths=[12] * columns, number_formats=formats, date_format="dd/mm/yyyy",
                       datetime_format="dd/mm/yyyy hh:mm:ss", page_header=("A & B", "Kế hoạch", "16/04/2025"))


def _read(layout: SheetLayout, header: list[tuple[str, object]], rows: list[tuple[object, ...]]):
    buffer = io.BytesIO()
    written = write_xlsx(buffer, layout, header, rows)
    buffer.seek(0)
    return written, load_workbook(buffer).worksheets[0]


def test_column_letters_and_serials() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]
    assert excel_serial(date(1900, 3, 1)) == 61 and excel_serial(date(2025, 4, 16)) == 45763
    assert excel_serial(datetime(2025, 4, 16, 18)) == 45763.75


def test_values_of_every_kind_come_back_as_written() -> None:
    formats = ["#,##0", None, "dd/mm/yyyy", "0.000000", None, None, "0.00%"]
    rows = [  # each column's usual type, then others: every value must still be right
        (1234567, "=SUM(A1:A2)", date(2025, 4, 16), 21.123456, True, " lề ", 0.925),
        (None, "bad\x00\x1fchars <&>", datetime(2025, 4, 16, 17, 30), float("nan"), 7, "x" * 40_000, None),
        ("text in a number column", 3.5, "2025-04-16", 2**40, date(2025, 1, 2), "", 1),
    ]
    written, sheet = _read(_layout(7, formats), [("Tiêu đề", ""), ("Số liệu đến ngày", date(2025, 4, 16))], rows)
    assert written == 3
    values = [list(r) for r in sheet.iter_rows(min_row=5, values_only=True)]
    assert values[0] == [1234567, "=SUM(A1:A2)", datetime(2025, 4, 16), 21.123456, True, " lề ", 0.925]
    assert values[1][:4] == [None, "badchars <&>", datetime(2025, 4, 16, 17, 30), None]
    assert values[1][5] == "x" * 32_767
    assert values[2] == ["text in a number column", 3.5, "2025-04-16", 2**40, datetime(2025, 1, 2), "", 1]
    assert sheet["B5"].data_type == "s"  # text that looks like a formula stays text
    assert sheet["C5"].number_format == "dd/mm/yyyy" and sheet["G5"].number_format == "0.00%"
    assert sheet["E7"].is_date  # a date in a column without a format still reads as a date
    assert sheet["B2"].value == datetime(2025, 4, 16) and sheet["B2"].number_format == "dd/mm/yyyy"
    assert sheet["A1"].font.b and sheet["A1"].font.sz == 14 and sheet["A4"].font.b


def test_sheet_set_up_with_no_rows_and_many_columns() -> None:
    written, sheet = _read(_layout(30, [None] * 30), [("Tiêu đề", "")], [])
    assert written == 0
    assert sheet.title == "Hộ 'gia' đình"
    assert sheet.auto_filter.ref == "A3:AD3" and sheet.freeze_panes == "A4"
    assert sheet.print_title_rows == "$3:$3"
    # "&&" is how a page header writes one "&"
    assert sheet.oddHeader.left.text == "A && B" and sheet.oddHeader.center.text == "Kế hoạch"
    assert sheet.column_dimensions["AD"].width == 12


def test_remembered_cells_keep_each_value_its_type_and_row() -> None:
    # as dict keys True is 1 and False is 0: a cell remembered for one must not be written for the other
    column = [1, True, 1, False, 0, True, 0, 2, 2.0, 2, None, date(2025, 4, 16), "1", 1]
    rows = [(value, value if value is not True else 1, None) for value in column] + [(1, 1, ["a list"])]
    written, sheet = _read(_layout(3, [None, "#,##0", None]), [("Tiêu đề", "")], rows)
    assert written == len(column) + 1
    values = [list(r) for r in sheet.iter_rows(min_row=4, values_only=True)]
    assert values.pop() == [1, 1, "['a list']"]  # not a key: written as its text
    assert [v[0] for v in values] == [1, True, 1, False, 0, True, 0, 2, 2, 2, None, datetime(2025, 4, 16), "1", 1]
    assert [type(v[0]) for v in values[:7]] == [int, bool, int, bool, int, bool, int]
    assert [v[1] for v in values][:7] == [1, 1, 1, False, 0, 1, 0]
    assert [cell.coordinate for cell in sheet[18]] == ["A18", "B18", "C18"]


def test_a_column_of_more_values_than_it_remembers_is_written_right(monkeypatch) -> None:
    from tracker.exports import xlsx

    monkeypatch.setattr(xlsx, "MEMO_CELLS", 3)
    column = ["a", "b", "c", "d", "a", "e", "e", "b", 5, 5, date(2025, 1, 1), "a"]
    written, sheet = _read(_layout(1, [None]), [("Tiêu đề", "")], [(value,) for value in column])
    assert [r[0] for r in sheet.iter_rows(min_row=4, values_only=True)] == [
        *column[:10], datetime(2025, 1, 1), "a"]
    assert [row[0].coordinate for row in sheet.iter_rows(min_row=4)] == [f"A{n}" for n in range(4, 16)]
