"""Sign-in payloads."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.household import StrictSchema


class TokenArgs(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=100))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=1000))
    device_id = fields.String(required=True, validate=validate.Length(min=1, max=128))


class UserSchema(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    role = fields.String(required=True)
    areas = fields.List(fields.String(), required=True)


class TokenSchema(Schema):
    token = fields.String(required=True, metadata={"description": "Send as Authorization: Bearer <token>"})
    expires_at = fields.String(required=True, metadata={"description": "ISO 8601 with offset"})
    device_id = fields.String(required=True)
    user = fields.Nested(UserSchema, required=True)


class RevokedSchema(Schema):
    revoked = fields.Boolean(required=True)
