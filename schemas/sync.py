"""Payloads of the sync protocol: push, pull, receipt, households, conflicts."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from schemas.household import HouseholdSchema, StrictSchema

SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="Not a lower-case SHA-256 hex digest.")
CURSOR = validate.Regexp(r"^[0-9]{1,18}(-[0-9a-f]{8})?$", error="Not a cursor returned by this server.")


class RecordList(fields.List):
    """A list of household records, each validated on its own by the service.

    Documented as a list of :class:`HouseholdSchema`; loading only checks the
    list shape so that one bad record gets its own result instead of failing
    the whole batch.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(fields.Nested(HouseholdSchema), **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[Any]:
        if not isinstance(value, list):
            raise ValidationError("Not a valid list.")
        return value


# ---- push ---------------------------------------------------------------------

class PushArgs(StrictSchema):
    device_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    batch_id = fields.String(required=True, validate=validate.Length(min=1, max=128),
                             metadata={"description": "Made by the phone; a resend of the batch reuses it."})
    households = RecordList(required=True)


class DecisionSchema(Schema):
    """A manager's standing decision on a household's commune under one boundary set."""

    boundary_set = fields.String(metadata={"description": "Only in the household's list of decisions"})
    action = fields.String(required=True, metadata={"description": "confirm or move"})
    commune = fields.String(required=True, allow_none=True, metadata={"description": "The commune decided"})
    previous_commune = fields.String(allow_none=True, metadata={"description": "The commune before the decision"})
    revision = fields.Integer(required=True, metadata={"description": "The revision the manager decided on"})
    by = fields.String(required=True)
    at = fields.String(required=True)
    note = fields.String()


class AssignmentSchema(Schema):
    boundary_set = fields.String()
    commune = fields.String(allow_none=True)
    method = fields.String()
    flag = fields.String(allow_none=True, metadata={"description": "ambiguous, outside, swapped_coordinates, mismatch"})
    flags = fields.List(fields.String())
    candidates = fields.List(fields.String())
    nearest = fields.String(allow_none=True)
    distance_m = fields.Float(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    needs_review = fields.Boolean()
    decision = fields.Nested(DecisionSchema, metadata={
        "description": "A manager's decision, applied over the GPS point's answer until a manager decides again"})
    gps_commune = fields.String(allow_none=True, metadata={
        "description": "With a decision: the commune the GPS point gives, when it differs from the decision"})
    contradicts_decision = fields.Boolean(metadata={
        "description": "The point moved since the decision and lands elsewhere: back in the review queue"})


class FieldConflictSchema(Schema):
    field = fields.String(metadata={"description": "Merge unit: a field, status_dates.<stage> or photos.<sha256>"})
    kept = fields.String(metadata={"description": "server or client"})
    server_value = fields.Raw(allow_none=True)
    client_value = fields.Raw(allow_none=True)


class PushResultSchema(Schema):
    id = fields.String(allow_none=True)
    result = fields.String(metadata={"description": "created, updated, unchanged, merged, conflict or rejected"})
    revision = fields.Integer(allow_none=True)
    commune = fields.String(allow_none=True)
    assignment = fields.Nested(AssignmentSchema, allow_none=True)
    assignments = fields.Dict(keys=fields.String(), values=fields.Nested(AssignmentSchema),
                              metadata={"description": "Boundary set name → assignment"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    missing_photos = fields.List(fields.String())
    conflicts = fields.List(fields.Nested(FieldConflictSchema))


class PushResponseSchema(Schema):
    batch_id = fields.String()
    results = fields.List(fields.Nested(PushResultSchema))


# ---- households ---------------------------------------------------------------

class HistoryEntrySchema(Schema):
    revision = fields.Integer()
    result = fields.String()
    received_at = fields.String()
    superseded_at = fields.String(allow_none=True)
    device_id = fields.String()
    user = fields.String(allow_none=True)
    base_revision = fields.Integer(allow_none=True)
    content_hash = fields.String()
    status = fields.String()
    changed_fields = fields.List(fields.String())


class HouseholdOutSchema(Schema):
    id = fields.String()
    revision = fields.Integer()
    record = fields.Nested(HouseholdSchema)
    commune = fields.String(allow_none=True)
    assignment = fields.Nested(AssignmentSchema, allow_none=True)
    assignments = fields.Dict(keys=fields.String(), values=fields.Nested(AssignmentSchema))
    received_at = fields.String()
    history = fields.List(fields.Nested(HistoryEntrySchema))
    decisions = fields.List(fields.Nested(DecisionSchema), metadata={
        "description": "Standing manager decisions on the commune, one per boundary set"})
    open_conflicts = fields.Integer()
    missing_photos = fields.List(fields.String())
    waiting_for_files = fields.List(fields.String(), metadata={
        "description": "Files a field-app (OpenRosa) submission names and has not sent yet"})


# ---- pull ---------------------------------------------------------------------

class PullArgs(Schema):
    cursor = fields.String(load_default="0", validate=CURSOR)
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=2000))


class ChangeSchema(Schema):
    type = fields.String(metadata={"description": "household, household_removed, commune or plan_target"})
    seq = fields.Integer()
    id = fields.String(metadata={"description": "Household id, commune code or plan target key"})
    data = fields.Dict(allow_none=True)


class PullResponseSchema(Schema):
    changes = fields.List(fields.Nested(ChangeSchema))
    next_cursor = fields.String(metadata={"description": "Opaque; send it back as cursor"})
    has_more = fields.Boolean()
    reference_complete = fields.Boolean(metadata={
        "description": "The communes and plan targets in this answer are the whole set (replace, not merge)"})


# ---- receipt ------------------------------------------------------------------

class ReceiptArgs(StrictSchema):
    households = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=5000))
    photos = fields.List(fields.String(validate=SHA256), load_default=list, validate=validate.Length(max=5000))


class HouseholdReceiptSchema(Schema):
    id = fields.String()
    held = fields.Boolean()
    revision = fields.Integer(allow_none=True)
    content_hash = fields.String(allow_none=True)


class PhotoReceiptSchema(Schema):
    sha256 = fields.String()
    held = fields.Boolean()


class ReceiptResponseSchema(Schema):
    households = fields.List(fields.Nested(HouseholdReceiptSchema))
    photos = fields.List(fields.Nested(PhotoReceiptSchema))


# ---- conflicts ----------------------------------------------------------------

class ConflictQueryArgs(Schema):
    status = fields.String(load_default="open", validate=validate.OneOf(("open", "resolved", "all")))
    household_id = fields.UUID()
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**31 - 1))


class ConflictSchema(Schema):
    id = fields.Integer()
    household_id = fields.String()
    revision = fields.Integer()
    field = fields.String()
    base_value = fields.Raw(allow_none=True)
    server_value = fields.Raw(allow_none=True)
    client_value = fields.Raw(allow_none=True)
    kept = fields.String()
    device_id = fields.String()
    created_at = fields.String()
    resolved_at = fields.String(allow_none=True)
    resolution = fields.Raw(allow_none=True)


class ConflictListSchema(Schema):
    conflicts = fields.List(fields.Nested(ConflictSchema))
    total = fields.Integer()


class ResolveArgs(StrictSchema):
    keep = fields.String(required=True, validate=validate.OneOf(("server", "client", "value")),
                         metadata={"description": "Keep the server's value, the client's, or the given value"})
    value = fields.Raw(allow_none=True, metadata={"description": "With keep=value: the value to set"})
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class ConfirmArgs(StrictSchema):
    revision = fields.Integer(required=True, metadata={
        "description": "The revision the manager looked at; a household changed since is refused with 409"})
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class MoveArgs(ConfirmArgs):
    commune = fields.String(required=True, validate=validate.Length(min=1, max=32),
                            metadata={"description": "Code of a commune of the boundary set"})


class ResolveResponseSchema(Schema):
    conflict = fields.Nested(ConflictSchema)
    revision = fields.Integer()
    changed = fields.Boolean()
