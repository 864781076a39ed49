"""Bulk-loading household records from CSV, XLSX or JSON lines.

Each row is checked with the same schema phones are held to; valid rows
are stored in batches through :func:`create_households` (which assigns the
communes), bad rows are collected with their row number, field and reason.
A row without an ``id`` gets one derived from its content (UUID 5), so
running the same file again stores nothing twice.

Flat files (CSV / XLSX) use one column per field (see ``FLAT_COLUMNS``):
stage dates as ``<stage>_on``, funding as ``fund_<source>`` in whole VND,
the GPS point as ``lat``, ``lon``, ``accuracy_m``. JSON lines hold the
record exactly as a phone pushes it.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from marshmallow import ValidationError

from schemas.household import HouseholdSchema, canonical
from sync.records import content_hash
from sync.vocabulary import FUNDING_SOURCES, STATUSES
from tracker.errors import flatten_messages
from tracker.exports.tables import TableError, read_header, read_table, table_format

VN = timezone(timedelta(hours=7))
NAMESPACE = uuid.UUID("6f1c1d8e-2b64-4f0e-9a3c-7d2f5e1b9a40")  # ids of imported rows without one
STAGES = tuple(s for s in STATUSES)
TEXT_COLUMNS = ("id", "household_head", "ethnicity", "category", "national_id", "village", "declared_commune",
                "declared_set", "support_type", "status", "captured_at", "note")
FLAT_COLUMNS = (
    TEXT_COLUMNS + ("members", "lat", "lon", "accuracy_m")
    + tuple(f"{s}_on" for s in STAGES) + tuple(f"fund_{s}" for s in FUNDING_SOURCES)
)
REQUIRED_COLUMNS = ("household_head", "category", "members", "support_type", "status", "lat", "lon")
BATCH = 1000


@dataclass
class RowError:
    row: int
    id: str
    field: str
    message: str


@dataclass
class ImportSummary:
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)

    def count(self, result: str, n: int = 1) -> None:
        self.counts[result] = self.counts.get(result, 0) + n


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _cell_date(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = _cell_text(value)
    if text and len(text) > 10 and text[10] in "T ":
        return text[:10] if text[11:].strip("0:") == "" else text
    return text


def _cell_number(value: Any) -> Any:
    """Numbers stay numbers; numeric text becomes a number; anything else is left for the schema to refuse."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (int, float)):
        return value
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def check_columns(names: Iterable[str], path: Path) -> None:
    names = [n for n in names if n != "__extra__"]
    unknown = [n for n in names if n not in FLAT_COLUMNS]
    missing = [n for n in REQUIRED_COLUMNS if n not in names]
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    if problems:
        raise TableError(f"{path.name}: {'; '.join(problems)}")


def flat_record(row: dict[str, Any]) -> dict[str, Any]:
    """A phone-shaped record from one flat CSV/XLSX row (values not yet validated)."""
    record: dict[str, Any] = {}
    for name in TEXT_COLUMNS:
        value = _cell_text(row.get(name))
        if value is not None:
            record[name] = value
    national_id = row.get("national_id")
    if isinstance(national_id, (int, float)) and not isinstance(national_id, bool):
        record["national_id"] = str(int(national_id)).zfill(12)  # Excel drops the leading zero
    members = _cell_number(row.get("members"))
    if members is not None:
        record["members"] = members
    dates = {s: _cell_date(row.get(f"{s}_on")) for s in STAGES}
    record["status_dates"] = {s: d for s, d in dates.items() if d}
    funding = []
    for source in FUNDING_SOURCES:
        amount = _cell_number(row.get(f"fund_{source}"))
        if amount not in (None, 0):
            funding.append({"source": source, "amount_vnd": amount})
    record["funding"] = funding
    location = {key: _cell_number(row.get(key)) for key in ("lat", "lon", "accuracy_m")}
    if location["accuracy_m"] is None:
        location["accuracy_m"] = 0.0
    record["location"] = {k: v for k, v in location.items() if v is not None}
    return record


def flat_field(path: str, record: dict[str, Any]) -> str:
    """The flat file's column for a field path of the record (``funding.0.amount_vnd`` → ``fund_…``)."""
    parts = path.split(".")
    if parts[0] == "status_dates" and len(parts) == 2:
        return f"{parts[1]}_on"
    if parts[0] == "location" and len(parts) == 2:
        return parts[1]
    if parts[0] == "funding" and len(parts) >= 2 and parts[1].isdigit():
        lines = record.get("funding") or []
        index = int(parts[1])
        if index < len(lines):
            return f"fund_{lines[index]['source']}"
    return path


def with_defaults(record: dict[str, Any]) -> dict[str, Any]:
    """Fill what historical records lack: ``captured_at`` (the last stage date, noon) and ``id``."""
    record = dict(record)
    if not record.get("captured_at"):
        dates = [d for d in (record.get("status_dates") or {}).values() if isinstance(d, str)]
        if dates:
            try:
                last = max(date.fromisoformat(d[:10]) for d in dates)
                noon = min(datetime.combine(last, time(12), VN), datetime.now(VN).replace(microsecond=0))
                record["captured_at"] = noon.isoformat()
            except ValueError:
                pass  # the schema names the bad date
    if not record.get("id"):
        content = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)
        record["id"] = str(uuid.uuid5(NAMESPACE, content))
    return record


def parsed_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, list[RowError]]]:
    """``(row number, record or None, errors)`` for every row of the file."""
    kind = table_format(path)
    schema = HouseholdSchema()
    if kind != "jsonl":
        check_columns(read_header(path), path)
    for number, row in read_table(path):
        if "__error__" in row:
            yield number, None, [RowError(number, "", "_line", row["__error__"])]
            continue
        if kind != "jsonl":
            if "__extra__" in row:
                yield number, None, [RowError(number, "", "_row", "values beyond the last named column")]
                continue
            row = flat_record(row)
        record = with_defaults(row)
        try:
            loaded = schema.load(record)
        except ValidationError as exc:
            ident = str(record.get("id") or "")
            messages = flatten_messages(exc.messages)
            if kind != "jsonl":
                messages = {flat_field(f, record): m for f, m in messages.items()}
            errors = [RowError(number, ident, f, "; ".join(m)) for f, m in messages.items()]
            yield number, None, errors
            continue
        yield number, canonical(loaded), []


def import_file(
    path: Path,
    store: Callable[[list[dict[str, Any]]], list[Any]],
    commit: Callable[[], None],
    progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH,
) -> ImportSummary:
    """Read, check and store every row; ``store`` is called per batch, then ``commit``.

    ``store`` takes canonical records and returns one result (with ``id``,
    ``result`` and ``errors``) per record, like ``create_households``.
    """
    summary = ImportSummary()
    seen: dict[str, tuple[int, str]] = {}
    batch: list[tuple[int, dict[str, Any]]] = []

    def flush() -> None:
        if not batch:
            return
        results = store([record for _, record in batch])
        for (number, _), result in zip(batch, results):
            summary.count(result.result)
            if result.result == "rejected":
                for name, messages in (result.errors or {"_record": ["rejected"]}).items():
                    summary.errors.append(RowError(number, result.id, name, "; ".join(messages)))
        commit()
        batch.clear()

    for number, record, errors in parsed_rows(path):
        summary.rows += 1
        if progress:
            progress(1)
        if record is None:
            summary.count("invalid")
            summary.errors.extend(errors)
            continue
        digest = content_hash(record)[:16]
        earlier = seen.get(record["id"])
        if earlier is not None:
            if earlier[1] == digest:
                summary.count("duplicate")
            else:
                summary.count("invalid")
                summary.errors.append(RowError(number, record["id"], "id",
                                               f"the same id with different content is on row {earlier[0]}"))
            continue
        seen[record["id"]] = (number, digest)
        batch.append((number, record))
        if len(batch) >= batch_size:
            flush()
    flush()
    return summary


def write_error_report(path: Path, errors: list[RowError]) -> None:
    import csv

    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "id", "field", "message"])
        for error in sorted(errors, key=lambda e: (e.row, e.field)):
            writer.writerow([error.row, error.id, error.field, error.message])


def default_error_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.errors.csv")
