"""Crosswalks between boundary sets, as the API shows them."""
from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from schemas.exports import LANGS
from schemas.progress import Day, Instant, PlanRefSchema, StrictArgs


class CrosswalkLinkSchema(Schema):
    new_code = fields.String(required=True)
    new_name = fields.String(required=True)
    old_code = fields.String(required=True)
    old_name = fields.String(required=True)
    old_parent = fields.String(required=True, allow_none=True, metadata={"description": "The old unit's district."})
    share = fields.Float(required=True, metadata={"description": "Share of the old unit's area in the new unit "
                                                                 "(slivers dropped, so an old unit's shares sum to 1)."})
    area_km2 = fields.Float(required=True)
    households = fields.Integer(required=True,
                                metadata={"description": "Households assigned to the old unit under the old set "
                                                         "and to the new unit under the new set."})
    source = fields.String(required=True, validate=validate.OneOf(["geometry", "official"]))


class CrosswalkSummarySchema(Schema):
    id = fields.Integer(required=True)
    from_set = fields.String(required=True)
    to_set = fields.String(required=True)
    from_version = fields.Integer(required=True)
    to_version = fields.Integer(required=True)
    current = fields.Boolean(required=True, metadata={"description": "Made from the sets' current versions."})
    source = fields.String(required=True, metadata={"description": "geometry, or official (an official list "
                                                                   "wins for the units it names)."})
    source_name = fields.String(required=True)
    tolerance = fields.Float(required=True)
    old_units = fields.Integer(required=True)
    new_units = fields.Integer(required=True)
    split = fields.Integer(required=True, metadata={"description": "Old units lying in more than one new unit."})
    slivers = fields.Integer(required=True)
    unmatched = fields.List(fields.String(), required=True,
                            metadata={"description": "Old units overlapping no new unit."})
    households = fields.Integer(required=True)
    households_agreeing = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)


class CrosswalkSchema(CrosswalkSummarySchema):
    links = fields.List(fields.Nested(CrosswalkLinkSchema), required=True)


class CrosswalkFileArgs(StrictArgs):
    lang = fields.String(load_default="vi", validate=validate.OneOf(LANGS))


class ComparisonArgs(StrictArgs):
    as_of = Day(metadata={"description": "Count field work up to this date (default: today, Asia/Ho_Chi_Minh)."})
    known_at = Instant(metadata={"description": "Count only what the server had received by then (default: now)."})


class ComparisonFileArgs(ComparisonArgs):
    lang = fields.String(load_default="vi", validate=validate.OneOf(LANGS))


class MapFiguresSchema(Schema):
    planned = fields.Integer(required=True)
    started = fields.Integer(required=True)
    completed = fields.Integer(required=True)
    percent_complete = fields.Float(allow_none=True)


class ComparisonRowSchema(Schema):
    old_code = fields.String(required=True)
    old_name = fields.String(required=True)
    new_code = fields.String(required=True)
    new_name = fields.String(required=True)
    share = fields.Float(required=True, metadata={"description": "Share of the old commune's area in the new unit."})
    old = fields.Nested(MapFiguresSchema, required=True, metadata={"description": "The old commune, on the old map."})
    new = fields.Nested(MapFiguresSchema, required=True, metadata={"description": "The new unit, on the new map."})


class ComparisonSchema(Schema):
    from_set = fields.String(required=True)
    to_set = fields.String(required=True)
    as_of = fields.Date(required=True)
    known_at = fields.AwareDateTime(required=True)
    plans = fields.Dict(keys=fields.String(), values=fields.Nested(PlanRefSchema, allow_none=True))
    totals = fields.Dict(keys=fields.String(), values=fields.Nested(MapFiguresSchema),
                         metadata={"description": "Both maps' totals (old, new): identical for the same date."})
    rows = fields.List(fields.Nested(ComparisonRowSchema), required=True)


class OfficialLinkSchema(Schema):
    """One line of an official list; the checks that name each bad line are the CLI's (``check_official``)."""

    class Meta:
        unknown = RAISE

    old_code = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=32))
    new_code = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=32))
    share = fields.Float(allow_none=True, load_default=None, metadata={
        "description": "The old unit's share in the new unit; leave it out for an old unit that went wholly into "
                       "one new unit. The shares of a split unit must sum to 1."})
    old_name = fields.String(validate=validate.Length(max=200), metadata={"description": "Informational."})
    new_name = fields.String(validate=validate.Length(max=200), metadata={"description": "Informational."})
    note = fields.String(validate=validate.Length(max=2000), metadata={"description": "Informational."})


class OfficialListSchema(Schema):
    """An official crosswalk list (old code → new code, with shares where a unit was split)."""

    class Meta:
        unknown = RAISE

    source_name = fields.String(load_default="", validate=validate.Length(max=300),
                                metadata={"description": "Where the list comes from, e.g. the decision's number."})
    links = fields.List(fields.Nested(OfficialLinkSchema), required=True,
                        validate=validate.Length(min=1, max=100_000))


class OfficialFileArgs(StrictArgs):
    source_name = fields.String(load_default="", validate=validate.Length(max=300),
                                metadata={"description": "Where the list comes from (default: the file's name)."})
