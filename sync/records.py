"""The record canon: a validated household record's content, its hash and its stored columns.

Pure (no Flask, no session): the sync cores, the push, the importers and the
conflict resolution all hash and store a record the same way through these.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from sync.vocabulary import FUNDING_SOURCES
from tracker.text import fold

# Fields of the record that are not part of its content.
ENVELOPE_FIELDS = ("id", "base_revision")


def content_of(record: dict[str, Any]) -> dict[str, Any]:
    """The canonical record without the envelope fields."""
    return {k: v for k, v in record.items() if k not in ENVELOPE_FIELDS}


def content_hash(record: dict[str, Any]) -> str:
    """Stable SHA-256 of a canonical record's content (resends hash equal)."""
    payload = json.dumps(content_of(record), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def revision_columns(record: dict[str, Any]) -> dict[str, Any]:
    """The denormalised columns reports and search read, from a canonical record."""
    dates = record.get("status_dates") or {}
    location = record.get("location") or {}
    funds = {source: 0 for source in FUNDING_SOURCES}
    for line in record.get("funding") or []:
        funds[line["source"]] += int(line["amount_vnd"])
    columns = {
        "household_head": record["household_head"],
        "head_ascii": fold(record["household_head"])[:200],
        "declared_commune": record.get("declared_commune"),
        "category": record["category"],
        "support_type": record["support_type"],
        "status": record["status"],
        "lat": location.get("lat"),
        "lon": location.get("lon"),
        "accuracy_m": location.get("accuracy_m"),
        "village": record.get("village"),
        "ethnicity": record.get("ethnicity"),
        "members": record.get("members"),
        "national_id": record.get("national_id"),
    }
    for stage in ("surveyed", "approved", "started", "completed", "handed_over", "withdrawn"):
        columns[f"{stage}_on"] = _date(dates.get(stage))
    for source, amount in funds.items():
        columns[f"fund_{source}"] = amount
    return columns
