"""``/api/v1/export/progress.xlsx|csv`` and ``/api/v1/export/households.xlsx|csv``.

Files are streamed: CSV line by line from the database; XLSX through
openpyxl's write-only mode into a spooled temporary file read out in chunks.
"""
from __future__ import annotations

from typing import Any

from flask import Response, current_app, request, stream_with_context
from marshmallow import RAISE

from schemas.exports import HouseholdExportArgs, ProgressExportArgs
from schemas.jobs import JobSchema
from tracker.accounts.auth import auth_required, principal
from tracker.api import Blueprint
from tracker.consistent_reads import consistent_reads
from tracker.errors import ApiError
from tracker.exports import service
from tracker.exports.households import households_file
from tracker.exports.service import CSV, XLSX
from tracker.http import attachment
from tracker.jobs import kinds, queue
from tracker.jobs import service as jobs_service

blp = Blueprint("exports", __name__, url_prefix="/api/v1/export", description="Reports as Excel and CSV files")

BEARER = [{"bearerAuth": []}]


def _file_doc(mimetype: str) -> dict[str, Any]:
    return {"security": BEARER, "responses": {"200": {
        "description": "The file (streamed).",
        "content": {mimetype.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}},
    }}}


@blp.route("/progress.xlsx")
@consistent_reads
@blp.doc(**_file_doc(XLSX))
@auth_required()
@blp.arguments(ProgressExportArgs, location="query", unknown=RAISE)
def progress_xlsx(args: dict[str, Any]) -> Response:
    """The progress report as an Excel workbook (Vietnamese headers; ``lang=en`` for English)."""
    return attachment(*service.progress_file(args, principal().commune_scope(), "xlsx"))


@blp.route("/progress.csv")
@consistent_reads
@blp.doc(**_file_doc(CSV))
@auth_required()
@blp.arguments(ProgressExportArgs, location="query", unknown=RAISE)
def progress_csv(args: dict[str, Any]) -> Response:
    """The progress report as CSV (UTF-8 with BOM)."""
    return attachment(*service.progress_file(args, principal().commune_scope(), "csv"))


def _job_doc(mimetype: str) -> dict[str, Any]:
    doc = _file_doc(mimetype)
    doc["responses"]["202"] = {"description": "More than EXPORT_INLINE_ROWS households: an export job was started "
                                              "(its JSON; Location names it)."}
    return doc


def _households(args: dict[str, Any], fmt: str) -> Any:
    """The file at once, or (for more than ``EXPORT_INLINE_ROWS`` households) a job that writes it."""
    caller = principal()
    scope, mask = caller.commune_scope(), caller.role == "viewer"
    if kinds.export_rows(args, scope) > current_app.config["EXPORT_INLINE_ROWS"]:
        return _export_job(args, fmt, checked=True)
    chunks, mimetype, name = households_file(args, scope, mask, fmt)
    return attachment(stream_with_context(chunks), mimetype, name)


def _export_job(args: dict[str, Any], fmt: str, checked: bool = False) -> Response:
    """Start the export job; its arguments are checked first (an unknown map or plan is this answer's 404)."""
    caller = principal()
    if not checked:
        kinds.export_rows(args, caller.commune_scope())
    job = queue.start("export.households", kinds.export_args(args, caller.commune_scope(), caller.role == "viewer",
                                                             fmt), owner_id=caller.user_id)
    body = jobs_service.job_json(job)
    response = Response(JobSchema().dumps(body), status=202, mimetype="application/json")
    response.headers["Location"] = body["links"]["self"]
    return response


@blp.route("/households.xlsx")
@blp.doc(**_job_doc(XLSX))
@auth_required()
@blp.arguments(HouseholdExportArgs, location="query", unknown=RAISE)
def households_xlsx(args: dict[str, Any]) -> Any:
    """Households known at ``known_at`` with their status on ``as_of``; national IDs masked for viewers.

    A large list (more than ``EXPORT_INLINE_ROWS`` households) is written by a job: the answer is 202 with the
    job, whose ``links.file`` serves the workbook once it is done."""
    return _households(args, "xlsx")


@blp.route("/households.csv")
@blp.doc(**_job_doc(CSV))
@auth_required()
@blp.arguments(HouseholdExportArgs, location="query", unknown=RAISE)
def households_csv(args: dict[str, Any]) -> Any:
    """The households list as CSV, streamed row by row from the database (a job for a large list, as for XLSX)."""
    return _households(args, "csv")


@blp.route("/households.<any(xlsx, csv):fmt>/job", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required()
@blp.arguments(HouseholdExportArgs, location="query", unknown=RAISE)
@blp.response(202, JobSchema, description="The export job; GET its links.self for progress, then links.file")
@blp.alt_response(400, description="A body was sent")
@blp.alt_response(404, description="No such format")
def households_job(args: dict[str, Any], fmt: str) -> Response:
    """Start an export job for the households list whatever its size (same query as the GET; no body)."""
    if request.content_length or "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        raise ApiError(400, "An export job takes its arguments in the query string, not in a body.",
                       code="unexpected_body")
    return _export_job(args, fmt)
