"""One vocabulary: every code is labelled in both languages and used the same everywhere."""
from __future__ import annotations

from marshmallow import validate

from schemas.household import FundingLineSchema, HouseholdSchema
from sync import vocabulary as v
from tracker.demo.generate import CATEGORY_SHARES, TOP_UPS
from tracker.exports.service import HOUSEHOLD_COLUMNS, PROGRESS_COLUMNS
from tracker.households.models import HouseholdRevision

KINDS = {"status": v.STATUSES, "support_type": v.SUPPORT_TYPES, "category": v.CATEGORIES,
         "funding": v.FUNDING_SOURCES, "photo_stage": v.PHOTO_STAGES, "level": v.LEVELS, "flag": v.FLAGS}


def _choices(field) -> tuple[str, ...]:
    return tuple(next(x for x in field.validators if isinstance(x, validate.OneOf)).choices)


def test_every_code_has_a_vietnamese_and_an_english_label():
    for kind, codes in KINDS.items():
        for code in codes:
            vi, en = v.label(kind, code, "vi"), v.label(kind, code, "en")
            assert vi != code and en != code and vi != en or kind == "level", (kind, code)
            assert vi and en


def test_unknown_codes_read_as_themselves():
    assert v.label("status", "nonsense", "vi") == "nonsense"


def test_schemas_accept_exactly_the_vocabulary():
    fields = HouseholdSchema().fields
    assert _choices(fields["status"]) == v.STATUSES
    assert _choices(fields["category"]) == v.CATEGORIES
    assert _choices(fields["support_type"]) == v.SUPPORT_TYPES
    assert _choices(FundingLineSchema().fields["source"]) == v.FUNDING_SOURCES


def test_the_model_has_a_column_per_funding_source_and_status():
    columns = set(HouseholdRevision.__table__.columns.keys())
    assert {f"fund_{s}" for s in v.FUNDING_SOURCES} <= columns
    assert {f"{s}_on" for s in v.STATUSES} <= columns


def test_exports_head_their_funding_columns_with_the_vocabulary_labels():
    for columns in (PROGRESS_COLUMNS, HOUSEHOLD_COLUMNS):
        heads = {c.key: (c.vi, c.en) for c in columns if c.key.startswith("fund_") and c.key != "fund_total"}
        assert heads == {f"fund_{s}": (f"{v.label('funding', s, 'vi')} (đồng)", f"{v.label('funding', s, 'en')} (VND)")
                         for s in v.FUNDING_SOURCES}


def test_the_demo_draws_from_the_vocabulary():
    assert [c for c, _ in CATEGORY_SHARES] == list(v.CATEGORIES)
    assert {s for s, _ in TOP_UPS} <= set(v.FUNDING_SOURCES)
