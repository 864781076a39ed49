"""Photo payloads (the bytes themselves travel as the raw body)."""
from __future__ import annotations

from marshmallow import Schema, fields


class ExifSchema(Schema):
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    taken_at = fields.String(allow_none=True, metadata={"description": "From the camera's EXIF clock"})


class PhotoSchema(Schema):
    sha256 = fields.String()
    size_bytes = fields.Integer()
    content_type = fields.String()
    width = fields.Integer()
    height = fields.Integer()
    exif = fields.Nested(ExifSchema)
    stored_at = fields.String()


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
