"""``/api/v1/export/progress.xlsx|csv`` and ``/api/v1/export/households.xlsx|csv``.

Files are streamed: CSV line by line from the database; XLSX through
openpyxl's write-only mode into a spooled temporary file read out in chunks.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from flask import Response, stream_with_context
from flask_smorest import Blueprint
from marshmallow import RAISE

from schemas.exports import HouseholdExportArgs, ProgressExportArgs
from tracker.accounts.auth import auth_required, principal
from tracker.exports import service
from tracker.exports.writers import csv_stream, file_chunks, xlsx_file
from tracker.progress.service import ReportContext, context_from_args, progress_report

blp = Blueprint("exports", __name__, url_prefix="/api/v1/export", description="Reports as Excel and CSV files")

BEARER = [{"bearerAuth": []}]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def _file_doc(mimetype: str) -> dict[str, Any]:
    return {"security": BEARER, "responses": {"200": {
        "description": "The file (streamed).",
        "content": {mimetype.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}},
    }}}


def _attachment(body: Iterator[bytes], mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _progress(args: dict[str, Any]) -> tuple[ReportContext, list[tuple[str, str]], Iterator[tuple[Any, ...]], str]:
    ctx = context_from_args(args, principal().commune_scope())
    report = progress_report(ctx, args["level"])
    lang = args["lang"]
    level = service.LABELS["level"][lang][args["level"]]
    header = service.header_block(ctx, ("Báo cáo tiến độ xóa nhà tạm, nhà dột nát",
                                        "Progress report: eliminating temporary and dilapidated houses"),
                                  lang, [("Cấp", "Level", level)])
    return ctx, header, service.progress_rows(report, lang), f"progress-{args['level']}-{ctx.as_of.isoformat()}"


@blp.route("/progress.xlsx")
@blp.doc(**_file_doc(XLSX))
@auth_required()
@blp.arguments(ProgressExportArgs, location="query", unknown=RAISE)
def progress_xlsx(args: dict[str, Any]) -> Response:
    """The progress report as an Excel workbook (Vietnamese headers; ``lang=en`` for English)."""
    _, header, rows, name = _progress(args)
    handle = xlsx_file("Tiến độ" if args["lang"] == "vi" else "Progress", header, service.PROGRESS_COLUMNS, rows,
                       args["lang"])
    return _attachment(file_chunks(handle), XLSX, f"{name}.xlsx")


@blp.route("/progress.csv")
@blp.doc(**_file_doc(CSV))
@auth_required()
@blp.arguments(ProgressExportArgs, location="query", unknown=RAISE)
def progress_csv(args: dict[str, Any]) -> Response:
    """The progress report as CSV (UTF-8 with BOM)."""
    _, header, rows, name = _progress(args)
    return _attachment(csv_stream(header, service.PROGRESS_COLUMNS, rows, args["lang"]), CSV, f"{name}.csv")


def _households(args: dict[str, Any]) -> tuple[list[tuple[str, str]], Iterator[tuple[Any, ...]], str]:
    caller = principal()
    ctx = context_from_args(args, caller.commune_scope())
    lang = args["lang"]
    filters = {k: args[k] for k in ("commune", "status", "support_type") if k in args}
    described = ", ".join(f"{k}={v}" for k, v in filters.items())
    extra = [("Lọc", "Filters", described)] if described else []
    header = service.header_block(ctx, ("Danh sách hộ được hỗ trợ nhà ở", "Households supported with housing"),
                                  lang, extra)
    rows = service.household_rows(ctx, filters, lang, mask_ids=caller.role == "viewer")
    return header, rows, f"households-{ctx.as_of.isoformat()}"


@blp.route("/households.xlsx")
@blp.doc(**_file_doc(XLSX))
@auth_required()
@blp.arguments(HouseholdExportArgs, location="query", unknown=RAISE)
def households_xlsx(args: dict[str, Any]) -> Response:
    """Households known at ``known_at`` with their status on ``as_of``; national IDs masked for viewers."""
    header, rows, name = _households(args)
    handle = xlsx_file("Hộ gia đình" if args["lang"] == "vi" else "Households", header, service.HOUSEHOLD_COLUMNS,
                       rows, args["lang"])
    return _attachment(file_chunks(handle), XLSX, f"{name}.xlsx")


@blp.route("/households.csv")
@blp.doc(**_file_doc(CSV))
@auth_required()
@blp.arguments(HouseholdExportArgs, location="query", unknown=RAISE)
def households_csv(args: dict[str, Any]) -> Response:
    """The households list as CSV, streamed row by row from the database."""
    header, rows, name = _households(args)
    body = stream_with_context(csv_stream(header, service.HOUSEHOLD_COLUMNS, rows, args["lang"]))
    return _attachment(body, CSV, f"{name}.csv")
