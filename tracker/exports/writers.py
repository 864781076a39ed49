"""Streaming spreadsheet writers: XLSX (openpyxl write-only) and CSV.

Pure file work: columns, a header block and an iterator of rows in, an
iterator of bytes out. Neither writer holds the rows in memory: CSV is
produced line by line; XLSX rows go through openpyxl's write-only sheet
into a spooled temporary file, which is then read out in chunks.
"""
from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

CHUNK = 64 * 1024
SPOOL_BYTES = 4 * 1024 * 1024

# Excel number formats, by the kind of a column.
FORMATS = {
    "int": "#,##0",
    "vnd": "#,##0",
    "float": "#,##0.00",
    "coord": "0.000000",
    "percent": "0.00%",
    "date": {"vi": "dd/mm/yyyy", "en": "yyyy-mm-dd"},
    "datetime": {"vi": "dd/mm/yyyy hh:mm:ss", "en": "yyyy-mm-dd hh:mm:ss"},
}
WIDTHS = {"text": 22, "int": 10, "vnd": 18, "float": 10, "coord": 12, "percent": 10, "date": 12,
          "datetime": 20, "code": 10, "id": 38}


@dataclass(frozen=True)
class Column:
    key: str
    vi: str
    en: str
    kind: str = "text"  # text | code | id | int | vnd | float | coord | percent | date | datetime

    def title(self, lang: str) -> str:
        return self.vi if lang == "vi" else self.en


def _csv_value(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        # A spreadsheet opening the CSV must not run a name or a note as a formula.
        return "'" + value if value.startswith(FORMULA_START) else value
    if kind == "percent" and isinstance(value, (int, float)):
        return f"{value * 100:.2f}"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".") if kind == "coord" else f"{value:.2f}"
    return value


class _Lines:
    """A file-like object csv.writer writes one line into at a time."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()

    def write(self, text: str) -> int:
        return self.buffer.write(text)

    def take(self) -> str:
        value = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return value


def csv_stream(header: list[tuple[str, str]], columns: list[Column], rows: Iterable[tuple[Any, ...]],
               lang: str) -> Iterator[bytes]:
    """UTF-8 (with BOM, for Excel) CSV: header block, blank line, titles, rows."""
    out = _Lines()
    writer = csv.writer(out, lineterminator="\r\n")
    for label, value in header:
        writer.writerow([label, value])
    writer.writerow([])
    writer.writerow([c.title(lang) for c in columns])
    yield ("\ufeff" + out.take()).encode("utf-8")
    batch: list[str] = []
    kinds = [c.kind for c in columns]
    for row in rows:
        writer.writerow([_csv_value(v, k) for v, k in zip(row, kinds)])
        batch.append(out.take())
        if len(batch) >= 500:
            yield "".join(batch).encode("utf-8")
            batch = []
    if batch:
        yield "".join(batch).encode("utf-8")


FORMULA_START = ("=", "+", "-", "@")


def _excel_value(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # Excel has no zones; the header says which one
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def xlsx_file(title: str, header: list[tuple[str, str]], columns: list[Column], rows: Iterable[tuple[Any, ...]],
              lang: str) -> Any:
    """Write the workbook into a spooled temporary file, rewound; the caller closes it."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS.get(column.kind, 14)
    bold = Font(bold=True)
    for number, (label, value) in enumerate(header):
        label_cell = WriteOnlyCell(sheet, _excel_value(label))
        label_cell.font = bold if number else Font(bold=True, size=14)
        value_cell = WriteOnlyCell(sheet)
        value_cell._value, value_cell.data_type = _excel_value(value), "s"
        sheet.append([label_cell, value_cell])
    sheet.append([])
    titles = []
    for column in columns:
        cell = WriteOnlyCell(sheet, column.title(lang))
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        titles.append(cell)
    sheet.append(titles)
    sheet.freeze_panes = f"A{len(header) + 3}"

    # One styled template per formatted column; each value gets a cell with
    # a copy of the template's style (openpyxl reuses an unstyled cell for
    # plain values, so only formatted columns cost an object each).
    templates: list[Any] = []
    for column in columns:
        fmt = FORMATS.get(column.kind)
        if isinstance(fmt, dict):
            fmt = fmt[lang]
        if fmt is None:
            templates.append(None)
            continue
        template = WriteOnlyCell(sheet)
        template.number_format = fmt
        templates.append(template._style)
    for row in rows:
        out: list[Any] = []
        for value, style in zip(row, templates):
            value = _excel_value(value)
            if isinstance(value, str) and value.startswith("="):
                cell = WriteOnlyCell(sheet)  # text, never a formula
                cell._value, cell.data_type = value, "s"
                out.append(cell)
            elif style is None or value is None:
                out.append(value)
            else:
                cell = WriteOnlyCell(sheet, value)
                cell._style = style
                out.append(cell)
        sheet.append(out)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    workbook.save(spool)
    spool.seek(0)
    return spool


def file_chunks(handle: Any) -> Iterator[bytes]:
    """Read a file out in chunks, closing it at the end (or when the client goes)."""
    try:
        while chunk := handle.read(CHUNK):
            yield chunk
    finally:
        handle.close()
