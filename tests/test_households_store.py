"""Storing records: assignment under every set, swapped points, idempotent bulk load."""
from __future__ import annotations

import uuid
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from schemas.household import HouseholdSchema, canonical
from tests.helpers import two_communes
from tracker.boundaries.service import import_boundary_set
from tracker.extensions import db
from tracker.households.models import HouseholdRevision, RevisionAssignment
from tracker.households.service import create_households


def _record(lat: float, lon: float, declared: str = "90001", accuracy: float = 5.0) -> dict:
    raw = {
        "id": str(uuid.uuid4()), "household_head": "Lò Văn Việt", "ethnicity": "Thái", "category": "poor",
        "members": 5, "village": "Bản Lan Quynh", "declared_commune": declared, "support_type": "new_build",
        "status": "started", "status_dates": {"approved": "2025-01-20", "started": "2025-02-10"},
        "funding": [{"source": "central_budget", "amount_vnd": 60_000_000}],
        "location": {"lat": lat, "lon": lon, "accuracy_m": accuracy}, "captured_at": "2025-02-10T09:12:00+07:00",
    }
    return canonical(HouseholdSchema().load(raw))


def _setup(tmp_path: Path) -> None:
    import_boundary_set("t", two_communes(tmp_path / "c.geojson"))
    db.session.commit()


def test_points_are_assigned_and_flagged(app: Flask, tmp_path: Path) -> None:
    _setup(tmp_path)
    inside, swapped, zero = _record(21.05, 104.05), _record(104.15, 21.05), _record(0.0, 0.0)
    results = create_households([inside, swapped, zero])
    db.session.commit()
    assert [r.result for r in results] == ["created"] * 3
    assert (results[0].commune, results[0].assignment["flag"]) == ("90001", None)
    assert results[1].commune == "90002" and "swapped_coordinates" in results[1].assignment["flags"]
    assert results[1].assignment["lat"] == 21.05 and results[1].assignment["lon"] == 104.15
    assert "mismatch" in results[1].assignment["flags"]  # declared 90001, lies in 90002
    assert results[2].assignment["flag"] == "outside" and results[2].assignment["distance_m"] > 10_000_000
    assert results[2].commune == "90001"  # far outside: the declared commune stands, flagged for review
    review = db.session.scalar(select(func.count()).select_from(RevisionAssignment).where(RevisionAssignment.needs_review))
    assert review == 2


def test_out_of_range_latitude_that_is_no_swap_is_rejected(app: Flask, tmp_path: Path) -> None:
    _setup(tmp_path)
    results = create_households([_record(95.0, 21.0)])
    assert results[0].result == "rejected"
    assert results[0].errors == {"location.lat": ["Latitude must be between -90 and 90."]}
    assert db.session.scalar(select(func.count()).select_from(HouseholdRevision)) == 0


def test_bulk_load_is_idempotent_and_detects_different_content(app: Flask, tmp_path: Path) -> None:
    _setup(tmp_path)
    record = _record(21.05, 104.05)
    assert create_households([record])[0].result == "created"
    db.session.commit()
    assert create_households([record])[0].result == "unchanged"
    changed = dict(record, members=6)
    again = create_households([changed])[0]
    assert again.result == "rejected" and "id" in again.errors
    assert db.session.scalar(select(func.count()).select_from(HouseholdRevision)) == 1


def test_schema_rejects_a_latitude_and_longitude_both_out_of_range() -> None:
    errors = HouseholdSchema().validate({**_raw_minimal(), "location": {"lat": 95.0, "lon": 120.0, "accuracy_m": 5}})
    assert errors["location"] == {"lat": ["Latitude must be between -90 and 90."]}


def _raw_minimal() -> dict:
    return {"id": str(uuid.uuid4()), "household_head": "A", "category": "poor", "members": 1,
            "support_type": "repair", "status": "surveyed", "captured_at": "2025-01-01T00:00:00+07:00"}
