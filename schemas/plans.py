"""Plans and their revisions, as the API shows them."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.progress import Day, StrictArgs


class PlanTotalsSchema(Schema):
    communes = fields.Integer(required=True)
    new_build = fields.Integer(required=True)
    repair = fields.Integer(required=True)
    total = fields.Integer(required=True)
    budget_vnd = fields.Integer(required=True)


class CarriedFromSchema(Schema):
    plan = fields.String(required=True)
    revision = fields.Integer(required=True)
    crosswalk = fields.Integer(required=True, allow_none=True, metadata={"description": "Id of the crosswalk it was carried through."})


class PlanRevisionSchema(Schema):
    number = fields.Integer(required=True)
    effective_date = fields.Date(required=True)
    deadline = fields.Date(required=True)
    source_name = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    carried_from = fields.Nested(CarriedFromSchema, required=True, allow_none=True, metadata={
        "description": "A derived revision: the other map's plan revision it was carried from."})
    totals = fields.Nested(PlanTotalsSchema, required=True)


class PlanSchema(Schema):
    name = fields.String(required=True)
    boundary_set = fields.String(required=True)
    carried_from = fields.String(required=True, allow_none=True, metadata={"description": "The plan this one was carried from."})
    created_at = fields.AwareDateTime(required=True)
    in_force = fields.Integer(required=True, allow_none=True, metadata={"description": "Number of the revision in force today."})
    revisions = fields.List(fields.Nested(PlanRevisionSchema), required=True)


class PlanTargetSchema(Schema):
    commune_code = fields.String(required=True)
    commune_name = fields.String(required=True, allow_none=True)
    district_code = fields.String(required=True, allow_none=True)
    new_build = fields.Integer(required=True)
    repair = fields.Integer(required=True)
    total = fields.Integer(required=True)
    budget_vnd = fields.Integer(required=True)


class PlanDetailSchema(PlanSchema):
    revision = fields.Nested(PlanRevisionSchema, required=True, allow_none=True,
                             metadata={"description": "The revision shown (asked for, or in force)."})
    targets = fields.List(fields.Nested(PlanTargetSchema), required=True)


class PlanQueryArgs(StrictArgs):
    revision = fields.Integer(validate=validate.Range(min=1, max=1_000_000))
    as_of = Day(metadata={"description": "Show the revision in force on this date (default: today)."})

    @validates_schema
    def _one_selector(self, data: dict[str, Any], **_: Any) -> None:
        if "revision" in data and "as_of" in data:
            raise ValidationError("Give either revision or as_of, not both.", "revision")
