"""The household record as a phone pushes it (DESIGN.md, "The household record").

Unknown fields are rejected everywhere so that a typo in a client never
silently drops data. Vietnamese text is kept exactly as sent.
"""
from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates, validates_schema

from sync.vocabulary import CATEGORIES, FUNDING_SOURCES, PHOTO_STAGES, STAGES, STATUSES, SUPPORT_TYPES
from sync.vocabulary import today as today_vn

CLOCK_SKEW = timedelta(minutes=10)
MAX_VND = 10**13  # ten thousand billion VND: far above any household's support
EARLIEST = date(2000, 1, 1)  # before the programme; also keeps date arithmetic away from year 1


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


def _plausible_date(value: date) -> None:
    if value > today_vn():
        raise ValidationError("Date is in the future.")
    if value < EARLIEST:
        raise ValidationError(f"Date is before {EARLIEST}.")


def _plausible_time(value: datetime) -> None:
    if value > datetime.now(UTC) + CLOCK_SKEW:
        raise ValidationError("Time is in the future.")
    if value.date() < EARLIEST:
        raise ValidationError(f"Time is before {EARLIEST}.")


class Text(fields.String):
    """A string that refuses NUL and other control characters (tab/newline allowed)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in text):
            raise ValidationError("Control characters are not allowed.")
        return text


class VndAmount(fields.Integer):
    """Whole VND: integers only (no floats, no strings), never negative."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, validate=validate.Range(min=0, max=MAX_VND), **kwargs)


class FundingLineSchema(StrictSchema):
    source = fields.String(required=True, validate=validate.OneOf(FUNDING_SOURCES))
    amount_vnd = VndAmount(required=True)


class LocationSchema(StrictSchema):
    lat = fields.Float(required=True, allow_nan=False)
    lon = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=-180, max=180))
    accuracy_m = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=0, max=100_000))
    captured_at = fields.AwareDateTime(validate=_plausible_time)

    @validates("lat")
    def _lat_range(self, value: float, **_: Any) -> None:
        # A latitude past ±90 is kept only as a possible lat/lon swap (its
        # longitude must then be a valid latitude); the commune assignment
        # decides whether the swapped point lands in the province.
        if not math.isfinite(value) or abs(value) > 180:
            raise ValidationError("Latitude must be between -90 and 90.")

    @validates_schema
    def _swap_plausible(self, data: dict[str, Any], **_: Any) -> None:
        lat, lon = data.get("lat"), data.get("lon")
        if lat is not None and lon is not None and abs(lat) > 90 and abs(lon) > 90:
            raise ValidationError("Latitude must be between -90 and 90.", "lat")


class PhotoRefSchema(StrictSchema):
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$", error="Not a lower-case SHA-256 hex digest."))
    stage = fields.String(required=True, validate=validate.OneOf(PHOTO_STAGES))
    taken_at = fields.AwareDateTime(validate=_plausible_time)


class StatusDatesSchema(StrictSchema):
    surveyed = fields.Date(validate=_plausible_date)
    approved = fields.Date(validate=_plausible_date)
    started = fields.Date(validate=_plausible_date)
    completed = fields.Date(validate=_plausible_date)
    handed_over = fields.Date(validate=_plausible_date)
    withdrawn = fields.Date(validate=_plausible_date)


class HouseholdSchema(StrictSchema):
    """One record pushed by a phone; also the ``households import`` row shape."""

    id = fields.UUID(required=True)
    base_revision = fields.Integer(strict=True, allow_none=True, load_default=None, validate=validate.Range(min=1))
    household_head = Text(required=True, validate=validate.Length(min=1, max=200))
    ethnicity = Text(load_default="", validate=validate.Length(max=60))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    members = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=60))
    national_id = fields.String(
        allow_none=True, load_default=None,
        validate=validate.Regexp(r"^[0-9]{12}$", error="National ID must be exactly 12 digits."),
    )
    village = Text(load_default="", validate=validate.Length(max=200))
    declared_commune = fields.String(allow_none=True, load_default=None, validate=validate.Length(min=1, max=32))
    declared_set = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": (
        "The boundary set (map) ``declared_commune`` belongs to, e.g. ``2024``. Optional: without it the code "
        "is read in the map in force on the record's ``captured_at`` day.")})
    support_type = fields.String(required=True, validate=validate.OneOf(SUPPORT_TYPES))
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    status_dates = fields.Nested(StatusDatesSchema, load_default=dict)
    funding = fields.List(fields.Nested(FundingLineSchema), load_default=list, validate=validate.Length(max=30))
    location = fields.Nested(LocationSchema, required=True)
    photos = fields.List(fields.Nested(PhotoRefSchema), load_default=list, validate=validate.Length(max=60))
    captured_at = fields.AwareDateTime(required=True, validate=_plausible_time)
    note = Text(load_default="", validate=validate.Length(max=2000))

    @validates_schema
    def _status_dates_consistent(self, data: dict[str, Any], **_: Any) -> None:
        dates = data.get("status_dates") or {}
        status = data.get("status")
        errors = stage_order_errors(dates) + current_status_errors(status, dates)
        if errors:
            raise ValidationError(errors, "status_dates")

    @validates_schema
    def _photos_unique(self, data: dict[str, Any], **_: Any) -> None:
        hashes = [p["sha256"] for p in data.get("photos") or []]
        if len(hashes) != len(set(hashes)):
            raise ValidationError("The same photo is listed twice.", "photos")


def stage_order_errors(dates: dict[str, date]) -> list[str]:
    """Stage dates must not go backwards: approved before started, and so on."""
    errors = []
    reached = [(stage, dates[stage]) for stage in STAGES if stage in dates]
    for (earlier, d1), (later, d2) in zip(reached, reached[1:]):
        if d2 < d1:
            errors.append(f"{later} ({d2.isoformat()}) is before {earlier} ({d1.isoformat()}).")
    return errors


def current_status_errors(status: str | None, dates: dict[str, date]) -> list[str]:
    """The current status needs its date; later stages cannot have one yet."""
    if status is None:
        return []
    if status != "surveyed" and status not in dates:
        return [f"The date of the current status '{status}' is missing."]
    if status in STAGES:
        beyond = [s for s in STAGES[STAGES.index(status) + 1:] if s in dates]
        if beyond:
            return [f"Status is '{status}' but a date is given for {', '.join(beyond)}."]
        if "withdrawn" in dates:
            return [f"Status is '{status}' but a withdrawal date is given."]
    return []


def canonical(record: dict[str, Any]) -> dict[str, Any]:
    """The JSON form stored and returned: what the schema loaded, dumped back."""
    return HouseholdSchema().dump(record)
