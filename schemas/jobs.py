"""A job's state, as the API gives it."""
from __future__ import annotations

from marshmallow import Schema, fields


class JobProgressSchema(Schema):
    done = fields.Integer(required=True)
    total = fields.Integer(required=True, allow_none=True)
    percent = fields.Float(required=True, allow_none=True)


class JobLinksSchema(Schema):
    self = fields.String(required=True)
    file = fields.String(metadata={"description": "The file, once an export job is done."})
    page = fields.String(required=True, metadata={"description": "The job's web page."})


class JobSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "export.households, photos.thumbnail, "
                                                                  "households.reassign or tallies.rebuild"})
    status = fields.String(required=True, metadata={"description": "queued, running, retrying, done or failed"})
    progress = fields.Nested(JobProgressSchema, required=True)
    attempts = fields.Integer(required=True)
    error = fields.String(required=True, allow_none=True,
                          metadata={"description": "Why the last attempt failed (kept while retrying)."})
    result = fields.Dict(required=True, allow_none=True)
    created_at = fields.String(required=True)
    started_at = fields.String(required=True, allow_none=True)
    finished_at = fields.String(required=True, allow_none=True)
    links = fields.Nested(JobLinksSchema, required=True)
