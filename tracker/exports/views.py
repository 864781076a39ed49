"""``/api/v1/export/progress.xlsx|csv`` and ``/api/v1/export/households.xlsx|csv``.

Files are streamed: CSV line by line from the database; XLSX through
openpyxl's write-only mode into a spooled temporary file read out in chunks.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Response, stream_with_context
from marshmallow import RAISE

from schemas.exports import HouseholdExportArgs, ProgressExportArgs
from tracker.accounts.auth import auth_required, principal
from tracker.api import Blueprint
from tracker.exports import service
from tracker.exports.households import household_rows
from tracker.exports.service import CSV, XLSX
from tracker.exports.writers import csv_stream, file_chunks, primed, xlsx_file
from tracker.http import attachment
from tracker.progress.service import context_from_args

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


HOUSEHOLDS_TITLE = ("Danh sách hộ được hỗ trợ nhà ở", "Households supported with housing")


def _households(args: dict[str, Any]) -> tuple[list[tuple[str, Any]], Iterator[tuple[Any, ...]], str, Any]:
    caller = principal()
    ctx = context_from_args(args, caller.commune_scope())
    lang = args["lang"]
    filters = {k: args[k] for k in ("commune", "status", "support_type") if k in args}
    described = ", ".join(f"{k}={v}" for k, v in filters.items())
    extra = [("Lọc", "Filters", described)] if described else []
    header = service.header_block(ctx, HOUSEHOLDS_TITLE, lang, extra)
    rows = primed(household_rows(ctx, filters, lang, mask_ids=caller.role == "viewer"))
    return header, rows, f"households-{ctx.as_of.isoformat()}", ctx


@blp.route("/households.xlsx")
@blp.doc(**_file_doc(XLSX))
@auth_required()
@blp.arguments(HouseholdExportArgs, location="query", unknown=RAISE)
def households_xlsx(args: dict[str, Any]) -> Response:
    """Households known at ``known_at`` with their status on ``as_of``; national IDs masked for viewers."""
    header, rows, name, ctx = _households(args)
    lang = args["lang"]
    handle = xlsx_file("Hộ gia đình" if lang == "vi" else "Households", header, service.HOUSEHOLD_COLUMNS,
                       rows, lang, service.page_header(ctx, HOUSEHOLDS_TITLE, lang))
    return attachment(file_chunks(handle), XLSX, f"{name}.xlsx")


@blp.route("/households.csv")
@blp.doc(**_file_doc(CSV))
@auth_required()
@blp.arguments(HouseholdExportArgs, location="query", unknown=RAISE)
def households_csv(args: dict[str, Any]) -> Response:
    """The households list as CSV, streamed row by row from the database."""
    header, rows, name, _ = _households(args)
    body = stream_with_context(csv_stream(header, service.HOUSEHOLD_COLUMNS, rows, args["lang"]))
    return attachment(body, CSV, f"{name}.csv")
