"""``/api/v1/export/progress.xlsx|csv`` and ``/api/v1/export/households.xlsx|csv``.

Files are streamed: CSV line by line from the database; XLSX through
openpyxl's write-only mode into a spooled temporary file read out in chunks.
"""
from __future__ import annotations

from typing import Any

from flask import Response, stream_with_context
from marshmallow import RAISE

from schemas.exports import HouseholdExportArgs, ProgressExportArgs
from tracker.accounts.auth import auth_required, principal
from tracker.api import Blueprint
from tracker.exports import service
from tracker.exports.households import households_file
from tracker.exports.service import CSV, XLSX
from tracker.http import attachment

blp = Blueprint("exports", __name__, url_prefix="/api/v1/export", description="Reports as Excel and CSV files")

BEARER = [{"bearerAuth": []}]


def _file_doc(mimetype: str) -> dict[str, Any]:
    return {"security": BEARER, "responses": {"200": {
        "description": "The file (streamed).",
        "content": {mimetype.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}},
    }}}


@blp.route("/progress.xlsx")
@blp.doc(**_file_doc(XLSX))
@auth_required()
@blp.arguments(ProgressExportArgs, location="query", unknown=RAISE)
def progress_xlsx(args: dict[str, Any]) -> Response:
    """The progress report as an Excel workbook (Vietnamese headers; ``lang=en`` for English)."""
    return attachment(*service.progress_file(args, principal().commune_scope(), "xlsx"))


@blp.route("/progress.csv")
@blp.doc(**_file_doc(CSV))
@auth_required()
@blp.arguments(ProgressExportArgs, location="query", unknown=RAISE)
def progress_csv(args: dict[str, Any]) -> Response:
    """The progress report as CSV (UTF-8 with BOM)."""
    return attachment(*service.progress_file(args, principal().commune_scope(), "csv"))


@blp.route("/households.xlsx")
@blp.doc(**_file_doc(XLSX))
@auth_required()
@blp.arguments(HouseholdExportArgs, location="query", unknown=RAISE)
def households_xlsx(args: dict[str, Any]) -> Response:
    """Households known at ``known_at`` with their status on ``as_of``; national IDs masked for viewers."""
    caller = principal()
    return attachment(*households_file(args, caller.commune_scope(), caller.role == "viewer", "xlsx"))


@blp.route("/households.csv")
@blp.doc(**_file_doc(CSV))
@auth_required()
@blp.arguments(HouseholdExportArgs, location="query", unknown=RAISE)
def households_csv(args: dict[str, Any]) -> Response:
    """The households list as CSV, streamed row by row from the database."""
    caller = principal()
    chunks, mimetype, name = households_file(args, caller.commune_scope(), caller.role == "viewer", "csv")
    return attachment(stream_with_context(chunks), mimetype, name)
