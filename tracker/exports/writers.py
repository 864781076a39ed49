"""Streaming spreadsheet writers: XLSX and CSV.

Pure file work: columns, a header block and an iterator of rows in, an
iterator of bytes out. Neither writer holds the rows in memory: CSV is
produced line by line; XLSX rows go through :mod:`tracker.exports.xlsx`
into a spooled temporary file, which is then read out in chunks. Header
values may be dates and times: real Excel dates in XLSX, text in CSV.
"""
from __future__ import annotations

import csv
import io
import itertools
import logging
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tracker.exports.xlsx import SheetLayout, write_xlsx

log = logging.getLogger(__name__)

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


def _inert(text: str) -> str:
    """A spreadsheet opening the CSV must not run a name or a note as a formula (OWASP's list of starts)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv_value(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return _inert(value)
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


def _csv_header_value(value: Any, lang: str) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}" if lang == "vi" else value.isoformat()
    return _inert(value) if isinstance(value, str) else value


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
        writer.writerow([label, _csv_header_value(value, lang)])
    writer.writerow([])
    writer.writerow([c.title(lang) for c in columns])
    yield ("\ufeff" + out.take()).encode("utf-8")
    batch: list[str] = []
    kinds = [c.kind for c in columns]
    try:
        for row in rows:
            writer.writerow([_csv_value(v, k) for v, k in zip(row, kinds)])
            batch.append(out.take())
            if len(batch) >= 500:
                yield "".join(batch).encode("utf-8")
                batch = []
    except Exception:
        # The status line is gone: say so in the file itself, then break the transfer (the
        # server sends no last chunk), so neither a person nor a program takes it as complete.
        log.exception("export failed after it started")
        writer.writerow([INCOMPLETE])
        yield ("".join(batch) + out.take()).encode("utf-8")
        raise
    if batch:
        yield "".join(batch).encode("utf-8")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
INCOMPLETE = "!! TỆP CHƯA ĐẦY ĐỦ: xuất dữ liệu bị lỗi ở đây / INCOMPLETE FILE: the export failed here"


def primed(rows: Iterable[Any]) -> Iterator[Any]:
    """Start the rows' query now, so that its errors are answered before the first byte is sent."""
    iterator = iter(rows)
    try:
        first = next(iterator)
    except StopIteration:
        return iter(())
    return itertools.chain((first,), iterator)


def _number_format(column: Column, lang: str) -> str | None:
    fmt = FORMATS.get(column.kind)
    return fmt[lang] if isinstance(fmt, dict) else fmt


def xlsx_file(title: str, header: list[tuple[str, Any]], columns: list[Column], rows: Iterable[tuple[Any, ...]],
              lang: str, page_header: tuple[str, str, str] = ("", "", "")) -> Any:
    """Write the workbook into a spooled temporary file, rewound; the caller closes it.

    ``page_header`` is printed at the top of every page (left, centre, right).
    """
    layout = SheetLayout(
        title=title[:31],
        column_titles=[c.title(lang) for c in columns],
        widths=[WIDTHS.get(c.kind, 14) for c in columns],
        number_formats=[_number_format(c, lang) for c in columns],
        date_format=FORMATS["date"][lang],  # type: ignore[index]
        datetime_format=FORMATS["datetime"][lang],  # type: ignore[index]
        page_header=page_header,
    )
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    write_xlsx(spool, layout, [(label, _local(value)) for label, value in header], rows)
    spool.seek(0)
    return spool


def _local(value: Any) -> Any:
    """Excel has no time zones: an aware time is written as its wall-clock time."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def file_chunks(handle: Any) -> Iterator[bytes]:
    """Read a file out in chunks, closing it at the end (or when the client goes)."""
    try:
        while chunk := handle.read(CHUNK):
            yield chunk
    finally:
        handle.close()
