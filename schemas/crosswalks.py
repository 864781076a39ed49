"""Crosswalks between boundary sets, as the API shows them."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.exports import LANGS
from schemas.progress import StrictArgs


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
