"""From a submitted instance to the household record a phone would push (pure).

``household`` carries every field of the record; ``household_update`` carries
progress only and is laid over the household as it stood at the revision the
officer's list showed (``__version``). Photos enter the record by the SHA-256
of the file the XML names, once that file has arrived. Errors name the form's
own fields and speak Vietnamese: they go back to the officer.
"""
from __future__ import annotations

import copy
import re
from datetime import datetime
from typing import Any

from sync.vocabulary import STATUSES as STAGES  # every dated stage, withdrawn included

WHOLE_VND = re.compile(r"[0-9]{1,13}")
Errors = dict[str, list[str]]


def _text(values: dict[str, Any], name: str) -> str:
    value = values.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _repeat(values: dict[str, Any], name: str) -> list[dict[str, Any]]:
    value = values.get(name)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def named_files(values: dict[str, Any]) -> list[tuple[str, str]]:
    """(filename, stage) of every photo the instance names, in order."""
    return [(_text(item, "file"), _text(item, "stage")) for item in _repeat(values, "photo") if _text(item, "file")]


def captured_at(values: dict[str, Any], received: datetime) -> str:
    """When the officer finished the form (``end``), else started it, else when it arrived."""
    return _text(values, "end") or _text(values, "start") or received.isoformat()


def status_dates(values: dict[str, Any]) -> dict[str, str]:
    return {stage: _text(values, f"{stage}_on") for stage in STAGES if _text(values, f"{stage}_on")}


def funding(values: dict[str, Any], errors: Errors) -> list[dict[str, Any]]:
    lines = []
    for i, item in enumerate(_repeat(values, "funding")):
        amount = _text(item, "amount_vnd").replace(".", "").replace(",", "").replace(" ", "")
        if not WHOLE_VND.fullmatch(amount):
            errors[f"funding.{i}.amount_vnd"] = ["Số tiền phải là số đồng nguyên, chỉ gồm chữ số."]
            continue
        lines.append({"source": _text(item, "source"), "amount_vnd": int(amount)})
    return lines


def location(values: dict[str, Any], errors: Errors) -> dict[str, float] | None:
    """A geopoint is ``lat lon altitude accuracy``."""
    parts = _text(values, "location").split()
    try:
        lat, lon = float(parts[0]), float(parts[1])
        accuracy = float(parts[3]) if len(parts) > 3 else 0.0
    except (IndexError, ValueError):
        errors["location"] = ["Thiếu vị trí GPS hoặc vị trí không đọc được."]
        return None
    return {"lat": lat, "lon": lon, "accuracy_m": accuracy}


def photos(values: dict[str, Any], files: dict[str, str | None]) -> list[dict[str, str]]:
    """The photos whose files have arrived, each once."""
    seen: set[str] = set()
    out = []
    for filename, stage in named_files(values):
        sha = files.get(filename)
        if sha and sha not in seen:
            seen.add(sha)
            out.append({"sha256": sha, "stage": stage})
    return out


def _members(values: dict[str, Any], errors: Errors) -> int | None:
    raw = _text(values, "members")
    if not raw.isdigit():
        errors["members"] = ["Số nhân khẩu phải là số nguyên."]
        return None
    return int(raw)


def household_record(values: dict[str, Any], *, household_id: str, base_revision: int | None,
                     files: dict[str, str | None], ethnicities: dict[str, str],
                     received: datetime) -> tuple[dict[str, Any], Errors]:
    """The whole record from a ``household`` instance."""
    errors: Errors = {}
    ethnicity = _text(values, "ethnicity")
    record = {
        "id": household_id,
        "base_revision": base_revision,
        "household_head": _text(values, "household_head"),
        "ethnicity": ethnicities.get(ethnicity, ethnicity),
        "category": _text(values, "category"),
        "members": _members(values, errors),
        "national_id": _text(values, "national_id") or None,
        "village": _text(values, "village"),
        "declared_commune": _text(values, "declared_commune") or None,
        "support_type": _text(values, "support_type"),
        "status": _text(values, "status"),
        "status_dates": status_dates(values),
        "funding": funding(values, errors),
        "location": location(values, errors),
        "photos": photos(values, files),
        "captured_at": captured_at(values, received),
        "note": _text(values, "note"),
    }
    return record, errors


def update_record(values: dict[str, Any], base: dict[str, Any], *, base_revision: int,
                  files: dict[str, str | None], received: datetime) -> tuple[dict[str, Any], Errors]:
    """A ``household_update`` laid over the household as it stood at ``base_revision``."""
    errors: Errors = {}
    record = copy.deepcopy(base)
    record["base_revision"] = base_revision
    record["status"] = _text(values, "status")
    record["status_dates"] = {**(record.get("status_dates") or {}), **status_dates(values)}
    record["funding"] = list(record.get("funding") or []) + funding(values, errors)
    known = {p["sha256"] for p in record.get("photos") or []}
    record["photos"] = list(record.get("photos") or []) + [p for p in photos(values, files) if p["sha256"] not in known]
    if note := _text(values, "note"):
        record["note"] = note
    record["captured_at"] = captured_at(values, received)
    return record, errors
