"""Payloads about the field app: the managers' sync health list."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class SyncHealthArgs(Schema):
    days = fields.Integer(load_default=14, validate=validate.Range(min=1, max=365),
                          metadata={"description": "A household not updated for this many days is listed as stale"})


class WaitingSchema(Schema):
    instance_id = fields.String()
    household_id = fields.String(allow_none=True)
    missing = fields.List(fields.String(), metadata={"description": "Files the submission names, not yet arrived"})
    since = fields.DateTime()


class RejectedSchema(Schema):
    instance_id = fields.String()
    at = fields.DateTime()
    message = fields.String(metadata={"description": "What the officer was told, in Vietnamese"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class DeviceHealthSchema(Schema):
    device_id = fields.String()
    collect_key = fields.Boolean(metadata={"description": "Enrolled for ODK Collect with its own key"})
    revoked = fields.Boolean()
    last_seen_at = fields.DateTime(allow_none=True)
    last_submission_at = fields.DateTime(allow_none=True)
    waiting_for_photos = fields.List(fields.Nested(WaitingSchema))
    held_edits = fields.Integer(metadata={"description": "Edits waiting for the version they edit"})
    rejected = fields.List(fields.Nested(RejectedSchema))


class StaleSchema(Schema):
    id = fields.String()
    household_head = fields.String()
    status = fields.String()
    updated_at = fields.DateTime()


class OfficerHealthSchema(Schema):
    username = fields.String()
    role = fields.String()
    communes = fields.List(fields.String())
    stale_households = fields.Integer()
    stale = fields.List(fields.Nested(StaleSchema))
    devices = fields.List(fields.Nested(DeviceHealthSchema))


class SyncHealthSchema(Schema):
    days = fields.Integer()
    officers = fields.List(fields.Nested(OfficerHealthSchema))
