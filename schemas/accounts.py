"""Sign-in payloads."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.household import StrictSchema


class TokenArgs(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=100))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=1000))
    device_id = fields.String(required=True, validate=validate.Length(min=1, max=128))


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    role = fields.String()
    areas = fields.List(fields.String())


class TokenSchema(Schema):
    token = fields.String(metadata={"description": "Send as Authorization: Bearer <token>"})
    expires_at = fields.String(metadata={"description": "ISO 8601 with offset"})
    device_id = fields.String()
    user = fields.Nested(UserSchema)


class RevokedSchema(Schema):
    revoked = fields.Boolean()
