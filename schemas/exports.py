"""Query arguments of the file exports."""
from __future__ import annotations

from marshmallow import fields, validate

from schemas.progress import STATUSES, SUPPORT_TYPES, ProgressArgs, ReportArgs

LANGS = ("vi", "en")


class ProgressExportArgs(ProgressArgs):
    lang = fields.String(load_default="vi", validate=validate.OneOf(LANGS),
                         metadata={"description": "Column headers and labels: Vietnamese (default) or English."})


class HouseholdExportArgs(ReportArgs):
    lang = fields.String(load_default="vi", validate=validate.OneOf(LANGS))
    commune = fields.String(validate=validate.Length(min=1, max=32))
    status = fields.String(validate=validate.OneOf(STATUSES),
                           metadata={"description": "Status on as_of."})
    support_type = fields.String(validate=validate.OneOf(SUPPORT_TYPES))
