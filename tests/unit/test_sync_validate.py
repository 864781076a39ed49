"""Batch validation: canonical form, dotted error paths, repeated ids."""
from __future__ import annotations

from datetime import date

from schemas.household import HouseholdSchema, canonical
from sync.validate import canonical_record, check_batch, check_record, flatten, to_json
from tests.sync_support import household
from tracker.demo.generate import communes_from_features, demo_households, demo_plan
from tracker.geo.synthetic import synthetic_province


def test_fast_canonical_form_equals_the_schema_dump() -> None:
    province = synthetic_province()
    communes = communes_from_features(province.communes)[:10]
    records = demo_households(communes, demo_plan(communes, 40, 10), date(2025, 6, 1))
    records.append(household(location={"lat": 21.05, "lon": 104, "accuracy_m": 3,
                                       "captured_at": "2025-02-10T09:12:00+07:00"},
                             photos=[{"sha256": "a" * 64, "stage": "before", "taken_at": "2025-01-05T08:00:00Z"}]))
    schema = HouseholdSchema()
    for record in records:
        loaded = schema.load(record)
        assert to_json(loaded) == canonical(loaded)
        assert canonical_record(schema.load(record)) == canonical(loaded)
        assert check_record(record).record == canonical(loaded)


def test_errors_are_dotted_paths() -> None:
    bad = household(funding=[{"source": "central_budget", "amount_vnd": -5}], location={"lat": 21.0})
    checked = check_record(bad)
    assert not checked.ok
    assert {"funding.0.amount_vnd", "location.lon", "location.accuracy_m"} <= set(checked.errors)
    assert flatten({"a": {"0": {"b": ["x"]}}, "c": ["y"]}) == {"a.0.b": ["x"], "c": ["y"]}


def test_repeated_id_is_refused_after_the_first() -> None:
    record = household()
    first, second = check_batch([record, dict(record)])
    assert first.ok and not second.ok and "id" in second.errors
