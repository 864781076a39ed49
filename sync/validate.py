"""Validating a pushed batch record by record (pure: schemas only).

One bad record never sinks the batch: each record is loaded on its own and
either comes back canonical (the JSON form stored and hashed) or with its
field errors as dotted paths (``location.lat``, ``funding.1.amount_vnd``).
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from marshmallow import ValidationError

from schemas.household import HouseholdSchema
from sync.records import content_hash

_SCHEMA = HouseholdSchema()


@dataclass
class Checked:
    """One pushed record after validation."""

    index: int
    id: str | None
    record: dict[str, Any] | None = None  # canonical, with ``id`` and ``base_revision``
    hash: str = ""  # content hash of the canonical record
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.record is not None

    @property
    def base_revision(self) -> int | None:
        return self.record.get("base_revision") if self.record else None


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Marshmallow's nested messages as ``{"a.0.b": [msg, ...]}``."""
    if isinstance(messages, Mapping):
        out: dict[str, list[str]] = {}
        for key, value in messages.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(messages, (list, tuple)):
        if all(isinstance(m, str) for m in messages):
            return {prefix or "_schema": list(messages)}
        out = {}
        for item in messages:
            out.update(flatten(item, prefix))
        return out
    return {prefix or "_schema": [str(messages)]}


def _raw_id(raw: Any) -> str | None:
    value = raw.get("id") if isinstance(raw, Mapping) else None
    return value if isinstance(value, str) and len(value) <= 64 else None


def to_json(value: Any) -> Any:
    """A loaded record back to JSON values: what ``HouseholdSchema().dump`` gives, faster.

    The schema loads only dicts, lists, strings, numbers, booleans, None,
    dates, aware datetimes and UUIDs; each dumps as its ISO form or string.
    """
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_json(item) for item in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def canonical_record(loaded: dict[str, Any]) -> dict[str, Any]:
    """``to_json`` for a loaded household, touching only the fields that need it.

    ``HouseholdSchema`` yields a UUID ``id``, dates in ``status_dates`` and
    aware datetimes in ``captured_at``, ``location.captured_at`` and
    ``photos[].taken_at``; everything else is JSON already (and freshly built
    by the load, so it is shared, not copied).
    """
    out = dict(loaded)
    out["id"] = str(out["id"])
    if "captured_at" in out:
        out["captured_at"] = _iso(out["captured_at"])
    if out.get("status_dates"):
        out["status_dates"] = {stage: _iso(day) for stage, day in out["status_dates"].items()}
    location = out.get("location")
    if location and "captured_at" in location:
        out["location"] = {**location, "captured_at": _iso(location["captured_at"])}
    if out.get("photos"):
        out["photos"] = [{**p, "taken_at": _iso(p["taken_at"])} if "taken_at" in p else p for p in out["photos"]]
    return out


def check_record(raw: Any, index: int = 0) -> Checked:
    """Load one record; never raises for bad input."""
    try:
        loaded = _SCHEMA.load(raw)
    except ValidationError as exc:
        return Checked(index, _raw_id(raw), errors=flatten(exc.messages))
    record = canonical_record(loaded)
    return Checked(index, record["id"], record, content_hash(record))


def check_batch(raws: Sequence[Any]) -> list[Checked]:
    """Every record checked; a repeated id is refused after its first occurrence."""
    checked = [check_record(raw, i) for i, raw in enumerate(raws)]
    seen: set[str] = set()
    for item in checked:
        if not item.ok:
            continue
        if item.id in seen:
            item.record, item.errors = None, {"id": ["This id appears more than once in the batch."]}
        else:
            seen.add(item.id)  # type: ignore[arg-type]
    return checked
