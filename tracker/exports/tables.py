"""Reading the spreadsheets people bring: CSV, XLSX and JSON lines.

Pure file handling (no Flask, no database). Rows come out one at a time as
``(row_number, {column: value})`` so that a 300,000-row file is never held in
memory; the row number is the one a spreadsheet shows (the header is row 1).
Problems with the file as a whole (missing, wrong format, bad encoding, no
header) raise :class:`TableError` with a message meant for a person.
"""
from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".jsonl": "jsonl", ".ndjson": "jsonl"}
MAX_CSV_FIELD = 1_000_000


class TableError(ValueError):
    """The file cannot be read as a table at all."""


def table_format(path: Path, allowed: tuple[str, ...] = ("csv", "xlsx", "jsonl")) -> str:
    kind = FORMATS.get(path.suffix.lower())
    if kind is None or kind not in allowed:
        names = ", ".join(sorted(ext for ext, k in FORMATS.items() if k in allowed))
        raise TableError(f"{path.name}: unsupported file type {path.suffix or '(none)'!r}; use {names}")
    if not path.is_file():
        raise TableError(f"{path}: no such file")
    return kind


def _header(cells: list[Any], path: Path) -> list[str]:
    names = [str(c).strip().lstrip("\ufeff").lower() if c is not None else "" for c in cells]
    while names and names[-1] == "":
        names.pop()
    if not names:
        raise TableError(f"{path.name}: the first row must hold the column names")
    if "" in names:
        raise TableError(f"{path.name}: column {names.index('') + 1} of the header row has no name")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise TableError(f"{path.name}: the header repeats {', '.join(repeated)}")
    return names


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _rows(path: Path, cells: Iterator[list[Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        header = _header(next(cells), path)
    except StopIteration:
        raise TableError(f"{path.name}: the file is empty") from None
    for number, row in enumerate(cells, start=2):
        if all(_blank(v) for v in row):
            continue
        extra = [v for v in row[len(header):] if not _blank(v)]
        record = dict(zip(header, list(row) + [None] * (len(header) - len(row))))
        if extra:
            record["__extra__"] = extra
        yield number, record


def _csv_cells(path: Path) -> Iterator[list[Any]]:
    csv.field_size_limit(MAX_CSV_FIELD)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            sample = handle.read(4096)
            handle.seek(0)
            delimiter = ";" if sample.count(";") > sample.count(",") else ","
            yield from csv.reader(handle, delimiter=delimiter)
    except UnicodeDecodeError as exc:
        raise TableError(f"{path.name}: not UTF-8 text (byte {exc.start}); save the file as CSV UTF-8") from None
    except csv.Error as exc:
        raise TableError(f"{path.name}: not a readable CSV file ({exc})") from None


def _xlsx_cells(path: Path) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise TableError(f"{path.name}: not a readable XLSX workbook ({exc.__class__.__name__})") from None
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        workbook.close()


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield number, {"__error__": f"not valid JSON ({exc.msg} at column {exc.colno})"}
                    continue
                if not isinstance(value, dict):
                    yield number, {"__error__": "each line must be one JSON object"}
                    continue
                yield number, value
    except UnicodeDecodeError as exc:
        raise TableError(f"{path.name}: not UTF-8 text (byte {exc.start})") from None


def read_table(path: Path, allowed: tuple[str, ...] = ("csv", "xlsx", "jsonl")) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(row number, row)`` pairs; JSON lines rows are the objects as given.

    A row whose line cannot be parsed comes out as ``{"__error__": message}``;
    cells beyond the header come out under ``"__extra__"``.
    """
    kind = table_format(path, allowed)
    if kind == "jsonl":
        return _jsonl_rows(path)
    cells = _csv_cells(path) if kind == "csv" else _xlsx_cells(path)
    return _rows(path, cells)


def read_header(path: Path) -> list[str]:
    """The column names of a CSV or XLSX file (TableError when it has none)."""
    kind = table_format(path, ("csv", "xlsx"))
    cells = _csv_cells(path) if kind == "csv" else _xlsx_cells(path)
    try:
        return _header(next(cells), path)
    except StopIteration:
        raise TableError(f"{path.name}: the file is empty") from None
    finally:
        cells.close()


def count_rows(path: Path) -> int | None:
    """About how many data rows a file holds (for a progress bar), or None."""
    kind = FORMATS.get(path.suffix.lower())
    try:
        if kind in ("csv", "jsonl"):
            with open(path, "rb") as handle:
                lines = sum(1 for _ in handle)
            return max(lines - (1 if kind == "csv" else 0), 0)
        if kind == "xlsx":
            from openpyxl import load_workbook

            workbook = load_workbook(path, read_only=True)
            try:
                rows = workbook.worksheets[0].max_row
            finally:
                workbook.close()
            return max(rows - 1, 0) if rows else None
    except Exception:  # a bar without a total is fine; reading reports real problems
        return None
    return None
