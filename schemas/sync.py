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


class CanonicalRecord(fields.Nested):
    """A stored household record, documented as :class:`HouseholdSchema`.

    Stored records are already the schema's canonical JSON (validated and
    dumped when they were received), so they are sent as they are: dumping
    them again would parse their dates back from text for nothing.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(HouseholdSchema, **kwargs)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
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
    previous_commune = fields.String(required=True, allow_none=True,
                                     metadata={"description": "The commune before the decision"})
    revision = fields.Integer(required=True, metadata={"description": "The revision the manager decided on"})
    by = fields.String(required=True)
    at = fields.String(required=True)
    note = fields.String(required=True)


class AssignmentSchema(Schema):
    boundary_set = fields.String(required=True)
    commune = fields.String(required=True, allow_none=True)
    method = fields.String(required=True)
    flag = fields.String(required=True, allow_none=True, metadata={"description": "ambiguous, outside, swapped_coordinates, mismatch"})
    flags = fields.List(fields.String(), required=True)
    candidates = fields.List(fields.String(), required=True)
    nearest = fields.String(required=True, allow_none=True)
    distance_m = fields.Float(required=True, allow_none=True)
    lat = fields.Float(required=True, allow_none=True)
    lon = fields.Float(required=True, allow_none=True)
    needs_review = fields.Boolean(required=True)
    low_accuracy_m = fields.Float(metadata={
        "description": "A fix coarser than the review threshold: its accuracy in metres (it waits for review)"})
    decision = fields.Nested(DecisionSchema, metadata={
        "description": "A manager's decision, applied over the GPS point's answer until a manager decides again"})
    gps_commune = fields.String(allow_none=True, metadata={
        "description": "With a decision: the commune the GPS point gives, when it differs from the decision"})
    contradicts_decision = fields.Boolean(metadata={
        "description": "The point moved since the decision and lands elsewhere: back in the review queue"})


class FieldConflictSchema(Schema):
    field = fields.String(required=True, metadata={"description": "Merge unit: a field, status_dates.<stage> or photos.<sha256>"})
    kept = fields.String(required=True, metadata={"description": "server or client"})
    server_value = fields.Raw(required=True, allow_none=True)
    client_value = fields.Raw(required=True, allow_none=True)


class PushResultSchema(Schema):
    id = fields.String(required=True, allow_none=True)
    result = fields.String(required=True, metadata={"description": "created, updated, unchanged, merged, conflict or rejected"})
    revision = fields.Integer(required=True, allow_none=True)
    commune = fields.String(required=True, allow_none=True)
    assignment = fields.Nested(AssignmentSchema, required=True, allow_none=True)
    assignments = fields.Dict(required=True, keys=fields.String(), values=fields.Nested(AssignmentSchema),
                              metadata={"description": "Boundary set name → assignment"})
    errors = fields.Dict(required=True, keys=fields.String(), values=fields.List(fields.String()))
    missing_photos = fields.List(fields.String(), required=True)
    conflicts = fields.List(fields.Nested(FieldConflictSchema))


class PushResponseSchema(Schema):
    batch_id = fields.String(required=True)
    results = fields.List(fields.Nested(PushResultSchema), required=True)


# ---- households ---------------------------------------------------------------

class HistoryEntrySchema(Schema):
    revision = fields.Integer(required=True)
    result = fields.String(required=True)
    received_at = fields.String(required=True)
    superseded_at = fields.String(required=True, allow_none=True)
    device_id = fields.String(required=True)
    user = fields.String(required=True, allow_none=True)
    base_revision = fields.Integer(required=True, allow_none=True)
    content_hash = fields.String(required=True)
    status = fields.String(required=True)
    changed_fields = fields.List(fields.String(), required=True)


class HouseholdOutSchema(Schema):
    id = fields.String(required=True)
    revision = fields.Integer(required=True)
    record = CanonicalRecord(required=True)
    commune = fields.String(required=True, allow_none=True)
    assignment = fields.Nested(AssignmentSchema, required=True, allow_none=True)
    assignments = fields.Dict(required=True, keys=fields.String(), values=fields.Nested(AssignmentSchema))
    received_at = fields.String(required=True)
    history = fields.List(fields.Nested(HistoryEntrySchema), required=True)
    decisions = fields.List(fields.Nested(DecisionSchema), required=True, metadata={
        "description": "Standing manager decisions on the commune, one per boundary set"})
    open_conflicts = fields.Integer(required=True)
    missing_photos = fields.List(fields.String(), required=True)
    waiting_for_files = fields.List(fields.String(), required=True, metadata={
        "description": "Files a field-app (OpenRosa) submission names and has not sent yet"})


# ---- pull ---------------------------------------------------------------------

class PullArgs(Schema):
    cursor = fields.String(load_default="0", validate=CURSOR)
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=2000))


class HouseholdChangeSchema(Schema):
    """A ``household`` change: the current record and where it was assigned."""

    record = fields.Dict(required=True, metadata={
        "description": "The current record, as pushed (the push's HouseholdIn fields); national_id masked for viewers"})
    revision = fields.Integer(required=True, metadata={"description": "Send it back as base_revision when editing"})
    commune = fields.String(required=True, allow_none=True, metadata={
        "description": "The commune assigned under the default boundary set"})
    assignment = fields.Dict(required=True, allow_none=True, metadata={
        "description": "The assignment under the default boundary set (commune, flag, distances, needs_review)"})
    assignments = fields.Dict(keys=fields.String(), values=fields.Dict(), required=True, metadata={
        "description": "The assignment under each boundary set, by set name"})


class CommuneRefSchema(Schema):
    """A ``commune`` change: a commune of a boundary set, for the phone's list."""

    boundary_set = fields.String(required=True)
    set_version = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    name_ascii = fields.String(required=True)
    unit_type = fields.String(required=True, allow_none=True, metadata={"description": "xã, phường or thị trấn"})
    parent_code = fields.String(required=True, allow_none=True)
    area_km2 = fields.Float(required=True, allow_none=True)
    in_force = fields.Boolean(required=True, metadata={"description": "On the map in force today: offer these"})


class PlanTargetRefSchema(Schema):
    """A ``plan_target`` change: a commune's target in the latest revision of a plan."""

    plan = fields.String(required=True)
    revision = fields.Integer(required=True)
    revision_id = fields.Integer(required=True)
    effective_date = fields.String(required=True, metadata={"format": "date"})
    deadline = fields.String(required=True, metadata={"format": "date"})
    commune_code = fields.String(required=True)
    new_build = fields.Integer(required=True)
    repair = fields.Integer(required=True)
    budget_vnd = fields.Integer(required=True)


class ChangeData(fields.Field):
    """A change's ``data``, dumped by the schema of its ``type`` (a ``household_removed`` has none).

    Documented as one of those schemas (``tracker.docs.spec.one_of``).
    """

    by_type = {"household": HouseholdChangeSchema(), "commune": CommuneRefSchema(),
               "plan_target": PlanTargetRefSchema()}

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else self.by_type[obj["type"]].dump(value)


class ChangeSchema(Schema):
    type = fields.String(required=True, metadata={"description": "household, household_removed, commune or plan_target"})
    seq = fields.Integer(required=True)
    id = fields.String(required=True, metadata={"description": "Household id, commune code or plan target key"})
    data = ChangeData(required=True, allow_none=True, metadata={"description": "By type; null for household_removed"})


class PullResponseSchema(Schema):
    changes = fields.List(fields.Nested(ChangeSchema), required=True)
    next_cursor = fields.String(required=True, metadata={"description": "Opaque; send it back as cursor"})
    has_more = fields.Boolean(required=True)
    reference_complete = fields.Boolean(required=True, metadata={
        "description": "The communes and plan targets in this answer are the whole set (replace, not merge)"})


# ---- receipt ------------------------------------------------------------------

class ReceiptArgs(StrictSchema):
    households = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=5000))
    photos = fields.List(fields.String(validate=SHA256), load_default=list, validate=validate.Length(max=5000))


class HouseholdReceiptSchema(Schema):
    id = fields.String(required=True)
    held = fields.Boolean(required=True)
    revision = fields.Integer(required=True, allow_none=True)
    content_hash = fields.String(required=True, allow_none=True)


class PhotoReceiptSchema(Schema):
    sha256 = fields.String(required=True)
    held = fields.Boolean(required=True)


class ReceiptResponseSchema(Schema):
    households = fields.List(fields.Nested(HouseholdReceiptSchema), required=True)
    photos = fields.List(fields.Nested(PhotoReceiptSchema), required=True)


# ---- conflicts ----------------------------------------------------------------

class ConflictQueryArgs(Schema):
    status = fields.String(load_default="open", validate=validate.OneOf(("open", "resolved", "all")))
    household_id = fields.UUID()
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**31 - 1))


class ConflictSchema(Schema):
    id = fields.Integer(required=True)
    household_id = fields.String(required=True)
    revision = fields.Integer(required=True)
    field = fields.String(required=True)
    base_value = fields.Raw(required=True, allow_none=True)
    server_value = fields.Raw(required=True, allow_none=True)
    client_value = fields.Raw(required=True, allow_none=True)
    kept = fields.String(required=True)
    device_id = fields.String(required=True)
    created_at = fields.String(required=True)
    resolved_at = fields.String(required=True, allow_none=True)
    resolution = fields.Raw(required=True, allow_none=True)


class ConflictListSchema(Schema):
    conflicts = fields.List(fields.Nested(ConflictSchema), required=True)
    total = fields.Integer(required=True)


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
    conflict = fields.Nested(ConflictSchema, required=True)
    revision = fields.Integer(required=True)
    changed = fields.Boolean(required=True)
