"""Photo payloads (the bytes themselves travel as the raw body)."""
from __future__ import annotations

from marshmallow import Schema, fields


class ExifSchema(Schema):
    lat = fields.Float(required=True, allow_none=True)
    lon = fields.Float(required=True, allow_none=True)
    taken_at = fields.String(required=True, allow_none=True, metadata={"description": "From the camera's EXIF clock"})


class PhotoSchema(Schema):
    sha256 = fields.String(required=True)
    size_bytes = fields.Integer(required=True)
    content_type = fields.String(required=True)
    width = fields.Integer(required=True)
    height = fields.Integer(required=True)
    exif = fields.Nested(ExifSchema, required=True)
    stored_at = fields.String(required=True)


BINARY_BODY = {
    "requestBody": {
        "required": True,
        "content": {media: {"schema": {"type": "string", "format": "binary"}}
                    for media in ("image/jpeg", "image/png", "image/webp", "application/octet-stream")},
    }
}
TUS_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/offset+octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
