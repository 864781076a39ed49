"""Boundary sets and administrative units, as the API shows them."""
from marshmallow import Schema, fields, validate


class BoundarySetSchema(Schema):
    name = fields.String(required=True)
    description = fields.String(required=True)
    synthetic = fields.Boolean(required=True)
    version = fields.Integer(required=True)
    in_force_from = fields.Date(required=True, allow_none=True, metadata={
        "description": "The day this map came into force; reports default to the map in force on their date."})
    counts = fields.Dict(required=True, keys=fields.String(), values=fields.Integer())
    updated_at = fields.AwareDateTime(required=True)


class AdminUnitSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    name_ascii = fields.String(required=True)
    level = fields.String(required=True)
    type = fields.String(required=True, attribute="unit_type")
    parent = fields.String(required=True, attribute="parent_code", allow_none=True)
    area_km2 = fields.Float(required=True)


class UnitQueryArgs(Schema):
    level = fields.String(
        load_default="commune", validate=validate.OneOf(["province", "district", "commune"])
    )
