"""Progress reports, map layers and their query arguments.

Query arguments reject unknown names (a misspelt ``as_of`` must not silently
give today's report). Dates are ``YYYY-MM-DD`` in Asia/Ho_Chi_Minh; instants
are ISO 8601 and, without an offset, read as Asia/Ho_Chi_Minh time.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from marshmallow import INCLUDE, RAISE, Schema, ValidationError, fields, pre_load, validate

from sync.vocabulary import FUNDING_SOURCES, LEVELS, STATUSES, SUPPORT_TYPES, TZ

MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)


class Day(fields.Date):
    """A calendar date between 2000 and 2100 (``YYYY-MM-DD``)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> date:
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise ValidationError("Not a date: use YYYY-MM-DD.")
        day = super()._deserialize(value.strip(), attr, data, **kwargs)
        if not MIN_DATE <= day <= MAX_DATE:
            raise ValidationError(f"Date must be between {MIN_DATE} and {MAX_DATE}.")
        return day


class Instant(fields.DateTime):
    """An ISO 8601 instant; naive times are Asia/Ho_Chi_Minh.

    In a query string an unencoded ``+07:00`` arrives as `` 07:00``; that
    space is read back as the plus sign it was.
    """

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 40:
            raise ValidationError("Not a time: use ISO 8601, e.g. 2025-04-16T17:00:00+07:00.")
        text = value.strip()
        text = re.sub(r" (\d{2}:?\d{2})$", r"+\1", text)
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([+-]\d{2}:?\d{2})?", text):
            raise ValidationError("Not a time: use ISO 8601, e.g. 2025-04-16T17:00:00+07:00.")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError("Not a valid time.") from None
        if not MIN_DATE <= moment.date() <= MAX_DATE:
            raise ValidationError(f"Time must be between {MIN_DATE} and {MAX_DATE}.")
        return moment if moment.tzinfo else moment.replace(tzinfo=TZ)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return value.isoformat() if value is not None else None


class StrictArgs(Schema):
    """Query arguments: unknown names and repeated names are refused."""

    class Meta:
        unknown = RAISE

    @pre_load
    def _once_each(self, data: Any, **_: Any) -> Any:
        source = getattr(data, "data", None)
        if source is not None and hasattr(source, "getlist"):
            repeated = {key: ["Give this parameter once."] for key in source if len(source.getlist(key)) > 1}
            if repeated:
                raise ValidationError(repeated)
        return data


class ReportArgs(StrictArgs):
    """What every report shares: which day, which knowledge, which set and plan."""

    as_of = Day(metadata={"description": "Count field work up to this date (default: today, Asia/Ho_Chi_Minh)."})
    known_at = Instant(metadata={
        "description": "Count only what the server had received by this instant (default: now).",
        "example": "2025-04-16T17:00:00+07:00",
    })
    set_name = fields.String(data_key="set", validate=validate.Length(min=1, max=64),
                             metadata={"description": "Boundary set: the map the report is on (default: the plan's "
                                                      "set when a plan is named, else the map in force on as_of)."})
    plan = fields.String(validate=validate.Length(min=1, max=100),
                         metadata={"description": "Plan name (default: the latest plan on the set)."})


class ProgressArgs(ReportArgs):
    level = fields.String(load_default="commune", validate=validate.OneOf(LEVELS))


MAP_ZOOM = 8  # the zoom a communes map is answered at when none is asked for
NATIONAL_ZOOM = 6  # the whole of Vietnam on a screen


class MapArgs(ReportArgs):
    zoom = fields.Integer(load_default=MAP_ZOOM, strict=False, validate=validate.Range(min=0, max=18),
                          metadata={"description": "Web-map zoom level; geometry is simplified to about a pixel."})


class HouseholdPointArgs(StrictArgs):
    known_at = Instant()
    set_name = fields.String(data_key="set", validate=validate.Length(min=1, max=64))
    commune = fields.String(validate=validate.Length(min=1, max=32))
    status = fields.String(validate=validate.OneOf(STATUSES))
    support_type = fields.String(validate=validate.OneOf(SUPPORT_TYPES))
    limit = fields.Integer(load_default=20_000, validate=validate.Range(min=1, max=400_000))


class CountsSchema(Schema):
    new_build = fields.Integer(required=True)
    repair = fields.Integer(required=True)
    total = fields.Integer(required=True)


class FundingSchema(Schema):
    planned = fields.Integer(required=True, metadata={"description": "Plan budget, whole VND."})
    recorded = fields.Integer(required=True, metadata={"description": "Funding recorded on households, whole VND."})
    by_source = fields.Dict(keys=fields.String(validate=validate.OneOf(FUNDING_SOURCES)), values=fields.Integer())


class ProgressRowSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(allow_none=True)
    level = fields.String(required=True)
    parent_code = fields.String(allow_none=True)
    planned = fields.Nested(CountsSchema, required=True)
    started = fields.Nested(CountsSchema, required=True,
                            metadata={"description": "Reached 'started' or a later stage by as_of."})
    completed = fields.Nested(CountsSchema, required=True,
                              metadata={"description": "Supported: completed or handed over by as_of."})
    handed_over = fields.Nested(CountsSchema, required=True)
    withdrawn = fields.Integer(required=True)
    households = fields.Integer(required=True, metadata={"description": "Records counted (not withdrawn)."})
    needs_review = fields.Integer(required=True,
                                  metadata={"description": "Counted households whose commune assignment is flagged."})
    percent_complete = fields.Float(allow_none=True)
    funding = fields.Nested(FundingSchema, required=True)
    deadline = fields.Date(allow_none=True)
    days_left = fields.Integer(allow_none=True)
    remaining = fields.Integer(required=True)
    required_per_day = fields.Float(allow_none=True)
    achieved_per_day = fields.Float(required=True)
    projected_finish = fields.Date(allow_none=True)
    at_risk = fields.Boolean(required=True)
    finished_on = fields.Date(allow_none=True, metadata={
        "description": "The first day, up to as_of, on which the unit's completed figure (as counted for that "
                       "day) reached its plan; null until then."})
    days_late = fields.Integer(allow_none=True, metadata={
        "description": "Finished units: days after the deadline they finished (0 when on time)."})
    days_overdue = fields.Integer(allow_none=True, metadata={
        "description": "Unfinished units past their deadline: days since the deadline."})
    communes_at_risk = fields.Integer(metadata={"description": "District and province rows: communes at risk."})


class PlanRefSchema(Schema):
    name = fields.String(required=True)
    revision = fields.Integer(allow_none=True)
    effective_date = fields.Date(allow_none=True)
    deadline = fields.Date(allow_none=True)


class UnassignedSchema(Schema):
    households = fields.Integer()
    completed = fields.Integer()
    needs_review = fields.Integer()


class ProgressReportSchema(Schema):
    level = fields.String(required=True)
    as_of = fields.Date(required=True)
    known_at = fields.AwareDateTime(required=True)
    boundary_set = fields.String(required=True)
    plan = fields.Nested(PlanRefSchema, allow_none=True)
    rows = fields.List(fields.Nested(ProgressRowSchema), required=True)
    totals = fields.Nested(ProgressRowSchema, allow_none=True,
                           metadata={"description": "All rows together (the caller's scope)."})
    unassigned = fields.Nested(UnassignedSchema, metadata={
        "description": "Households the assignment put in no commune (counted in no row)."})


class GeoJsonSchema(Schema):
    """A GeoJSON FeatureCollection (RFC 7946)."""

    class Meta:
        unknown = INCLUDE  # RFC 7946 allows foreign members

    type = fields.String(required=True, metadata={"example": "FeatureCollection"})
    features = fields.List(fields.Dict(), required=True)
    as_of = fields.String(metadata={"description": "Communes layer: the date the figures are as of"})
    known_at = fields.String(metadata={"description": "What the server had received by this moment"})
    boundary_set = fields.String()
    plan = fields.Dict(allow_none=True, metadata={"description": "Communes layer: the plan revision used"})
    zoom = fields.Integer(allow_none=True, metadata={"description": "Communes layer: geometry detail"})
    truncated = fields.Boolean(metadata={"description": "Households layer: more points than the limit"})
