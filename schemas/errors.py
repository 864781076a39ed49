"""The one error shape of the API."""
from __future__ import annotations

from marshmallow import Schema, fields


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(required=True)
    fields = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Field path (dotted) → messages"},
    )


class ErrorSchema(Schema):
    """``{"error": {"code", "message", "fields"}}``"""

    error = fields.Nested(ErrorBodySchema, required=True)
