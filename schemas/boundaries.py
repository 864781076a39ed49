"""Boundary sets and administrative units, as the API shows them."""
from marshmallow import Schema, fields, validate


class BoundarySetSchema(Schema):
    name = fields.String(required=True)
    description = fields.String()
    synthetic = fields.Boolean()
    version = fields.Integer()
    in_force_from = fields.Date(allow_none=True, metadata={
        "description": "The day this map came into force; reports default to the map in force on their date."})
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    updated_at = fields.AwareDateTime()


class AdminUnitSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    name_ascii = fields.String()
    level = fields.String()
    type = fields.String(attribute="unit_type")
    parent = fields.String(attribute="parent_code", allow_none=True)
    area_km2 = fields.Float()


class UnitQueryArgs(Schema):
    level = fields.String(
        load_default="commune", validate=validate.OneOf(["province", "district", "commune"])
    )
