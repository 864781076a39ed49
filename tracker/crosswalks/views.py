"""``/api/v1/crosswalks``: crosswalks between boundary sets, as JSON and as files."""
from __future__ import annotations

from typing import Any

from flask import Response, request, stream_with_context
from marshmallow import RAISE

from schemas.crosswalks import (
    ComparisonArgs,
    ComparisonFileArgs,
    ComparisonSchema,
    CrosswalkFileArgs,
    CrosswalkSchema,
    CrosswalkSummarySchema,
    OfficialFileArgs,
    OfficialListSchema,
)
from tracker.accounts.auth import auth_required, principal
from tracker.api import Blueprint
from tracker.boundaries.models import BoundarySet
from tracker.boundaries.service import get_set
from tracker.crosswalks import comparison, files, service
from tracker.crosswalks.models import Crosswalk
from tracker.dbtypes import utcnow
from tracker.errors import ApiError
from tracker.exports.service import CSV, XLSX
from tracker.exports.tables import TableError
from tracker.exports.writers import csv_stream, file_chunks, xlsx_file
from tracker.extensions import db
from tracker.http import attachment
from tracker.progress.service import today_vn

blp = Blueprint("crosswalks", __name__, url_prefix="/api/v1/crosswalks",
                description="Crosswalks between boundary sets: old units → new units")
BEARER = [{"bearerAuth": []}]


def summary(row: Crosswalk, from_set: BoundarySet, to_set: BoundarySet) -> dict[str, Any]:
    olds: dict[str, int] = {}
    for link in row.links:
        olds[link.old_code] = olds.get(link.old_code, 0) + 1
    return {
        "id": row.id, "from_set": from_set.name, "to_set": to_set.name,
        "from_version": row.from_version, "to_version": row.to_version,
        "current": row.from_version == from_set.version and row.to_version == to_set.version,
        "source": row.source, "source_name": row.source_name, "tolerance": row.tolerance,
        "old_units": len(olds), "new_units": len({link.new_code for link in row.links}),
        "split": sum(1 for n in olds.values() if n > 1), "slivers": row.slivers,
        "unmatched": row.unmatched.split(), "households": row.households,
        "households_agreeing": row.households_agreeing, "created_at": row.created_at,
    }


def _sets(from_name: str, to_name: str) -> tuple[BoundarySet, BoundarySet]:
    found = {name: get_set(name) for name in (from_name, to_name)}
    missing = [name for name, s in found.items() if s is None]
    if missing:
        raise ApiError(404, f"No boundary set named {missing[0]!r}.")
    if from_name == to_name:
        raise ApiError(422, "A crosswalk needs two different boundary sets.")
    return found[from_name], found[to_name]  # type: ignore[return-value]


def current(from_name: str, to_name: str) -> tuple[Crosswalk, BoundarySet, BoundarySet]:
    """The current crosswalk between two named sets, made and stored on first use."""
    from_set, to_set = _sets(from_name, to_name)
    row = service.current_crosswalk(from_set, to_set, compute=False)
    if row is None:
        try:
            row = service.compute_crosswalk(from_set, to_set)
        except service.CrosswalkError as exc:
            db.session.rollback()
            raise ApiError(422, "The crosswalk cannot be made.", fields={"sets": exc.problems}) from None
        db.session.commit()
    return row, from_set, to_set


@blp.route("")
@blp.doc(security=BEARER)
@auth_required()
@blp.response(200, CrosswalkSummarySchema(many=True))
def list_crosswalks() -> list[dict[str, Any]]:
    """Every stored crosswalk, newest first (older ones are history: ``current`` is false)."""
    sets = {s.id: s for s in db.session.query(BoundarySet)}
    rows = db.session.query(Crosswalk).order_by(Crosswalk.id.desc())
    return [summary(r, sets[r.from_set_id], sets[r.to_set_id]) for r in rows]


@blp.route("/<string:from_name>/<string:to_name>")
@blp.doc(security=BEARER)
@auth_required()
@blp.response(200, CrosswalkSchema)
def get_crosswalk(from_name: str, to_name: str) -> dict[str, Any]:
    """The crosswalk for the sets' current versions, each old unit's parts in the new units.

    Callers limited to some communes see the links of those communes (old or new).
    """
    row, from_set, to_set = current(from_name, to_name)
    links = [vars(link) for link in service.link_rows(row, principal().commune_scope())]
    return {**summary(row, from_set, to_set), "links": links}


def _file(from_name: str, to_name: str, lang: str, kind: str) -> Response:
    row, from_set, to_set = current(from_name, to_name)
    header = files.header(row, from_set, to_set, lang)
    rows = (link.as_tuple() for link in service.link_rows(row, principal().commune_scope()))
    name = f"crosswalk-{from_set.name}-{to_set.name}"
    if kind == "csv":
        return attachment(stream_with_context(csv_stream(header, files.COLUMNS, rows, lang)), CSV, f"{name}.csv")
    handle = xlsx_file("Bảng chuyển đổi" if lang == "vi" else "Crosswalk", header, files.COLUMNS, rows, lang)
    return attachment(file_chunks(handle), XLSX, f"{name}.xlsx")


def _file_doc(mimetype: str) -> dict[str, Any]:
    return {"security": BEARER, "responses": {"200": {
        "description": "The file.",
        "content": {mimetype.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}},
    }}}


@blp.route("/<string:from_name>/<string:to_name>.csv")
@blp.doc(**_file_doc(CSV))
@auth_required()
@blp.arguments(CrosswalkFileArgs, location="query", unknown=RAISE)
def crosswalk_csv(args: dict[str, Any], from_name: str, to_name: str) -> Response:
    """The crosswalk as CSV (UTF-8 with BOM): one line per old unit's part in a new unit."""
    return _file(from_name, to_name, args["lang"], "csv")


@blp.route("/<string:from_name>/<string:to_name>.xlsx")
@blp.doc(**_file_doc(XLSX))
@auth_required()
@blp.arguments(CrosswalkFileArgs, location="query", unknown=RAISE)
def crosswalk_xlsx(args: dict[str, Any], from_name: str, to_name: str) -> Response:
    """The crosswalk as an Excel workbook."""
    return _file(from_name, to_name, args["lang"], "xlsx")


def _comparison(args: dict[str, Any], from_name: str, to_name: str) -> dict[str, Any]:
    row, from_set, to_set = current(from_name, to_name)
    return comparison.comparison(row, from_set, to_set, args.get("as_of") or today_vn(),
                                 args.get("known_at") or utcnow(), principal().commune_scope())


@blp.route("/<string:from_name>/<string:to_name>/comparison")
@blp.doc(security=BEARER)
@auth_required()
@blp.arguments(ComparisonArgs, location="query", unknown=RAISE)
@blp.response(200, ComparisonSchema)
def get_comparison(args: dict[str, Any], from_name: str, to_name: str) -> dict[str, Any]:
    """Each old commune → the new units it went into, with both maps' figures for the same date."""
    return _comparison(args, from_name, to_name)


def _comparison_file(args: dict[str, Any], from_name: str, to_name: str, kind: str) -> Response:
    body = _comparison(args, from_name, to_name)
    lang = args["lang"]
    header, rows = comparison.header(body, lang), comparison.file_rows(body, lang)
    name = f"comparison-{body['from_set']}-{body['to_set']}-{body['as_of'].isoformat()}"
    if kind == "csv":
        return attachment(stream_with_context(csv_stream(header, comparison.COLUMNS, rows, lang)), CSV, f"{name}.csv")
    handle = xlsx_file("So sánh" if lang == "vi" else "Comparison", header, comparison.COLUMNS, rows, lang)
    return attachment(file_chunks(handle), XLSX, f"{name}.xlsx")


@blp.route("/<string:from_name>/<string:to_name>/comparison.csv")
@blp.doc(**_file_doc(CSV))
@auth_required()
@blp.arguments(ComparisonFileArgs, location="query", unknown=RAISE)
def comparison_csv(args: dict[str, Any], from_name: str, to_name: str) -> Response:
    """The comparison report as CSV (UTF-8 with BOM), with a total line for each map."""
    return _comparison_file(args, from_name, to_name, "csv")


@blp.route("/<string:from_name>/<string:to_name>/comparison.xlsx")
@blp.doc(**_file_doc(XLSX))
@auth_required()
@blp.arguments(ComparisonFileArgs, location="query", unknown=RAISE)
def comparison_xlsx(args: dict[str, Any], from_name: str, to_name: str) -> Response:
    """The comparison report as an Excel workbook."""
    return _comparison_file(args, from_name, to_name, "xlsx")


# --- official lists ------------------------------------------------------------------

MANAGERS = ("manager", "admin")


def _load_official(from_name: str, to_name: str, rows: list[dict[str, Any]], source_name: str) -> dict[str, Any]:
    """The CLI's path: every row checked first (``import_official``), then the households re-assigned under both sets."""
    from tracker.households.ledger import Actor, reassign_set

    from_set, to_set = _sets(from_name, to_name)
    try:
        row = service.import_official(from_set, to_set, rows, source_name=source_name)
    except service.CrosswalkError as exc:
        db.session.rollback()
        raise ApiError(422, f"The official list was refused, nothing stored: {len(exc.problems)} problem(s).",
                       code="crosswalk_refused", fields={"links": exc.problems}) from None
    caller = principal()
    for boundary_set in (from_set, to_set):  # declared codes of one map are read through the list under the other
        reassign_set(boundary_set, Actor(caller.user_id, caller.username, caller.device_id))
    db.session.commit()
    links = [vars(link) for link in service.link_rows(row)]
    return {**summary(row, from_set, to_set), "links": links}


@blp.route("/<string:from_name>/<string:to_name>/official", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(MANAGERS)
@blp.arguments(OfficialListSchema)
@blp.response(201, CrosswalkSchema)
def post_official(body: dict[str, Any], from_name: str, to_name: str) -> dict[str, Any]:
    """Load an official list as JSON (managers): it wins over the geometry for the old units it names.

    Every line is checked first: unknown codes, shares that do not sum to 1
    for an old unit, a split unit without shares, a pair listed twice, or two
    sets that do not overlap are each named under ``fields.links``, and
    nothing is stored. The households are then re-assigned under both sets.
    """
    return _load_official(from_name, to_name, body["links"], body["source_name"])


@blp.route("/<string:from_name>/<string:to_name>/official.<string:kind>", methods=["POST"])
@blp.doc(security=BEARER, requestBody={"required": True, "content": {
    "text/csv": {"schema": {"type": "string", "format": "binary"}},
    XLSX.split(";")[0]: {"schema": {"type": "string", "format": "binary"}},
}})
@auth_required(MANAGERS)
@blp.arguments(OfficialFileArgs, location="query", unknown=RAISE)
@blp.response(201, CrosswalkSchema)
def post_official_file(args: dict[str, Any], from_name: str, to_name: str, kind: str) -> dict[str, Any]:
    """Load an official list as a file (managers): ``official.csv`` or ``official.xlsx``, the body the file itself.

    Columns ``old_code``, ``new_code``, ``share`` (and, for information,
    ``old_name``, ``new_name``, ``note``), as ``flask crosswalks import``
    reads them; the same checks, the same answer.
    """
    if kind not in ("csv", "xlsx"):
        raise ApiError(404, f"No official list format {kind!r}: use official.csv or official.xlsx.")
    data = request.get_data()
    if not data:
        raise ApiError(422, "The body is empty: send the file itself.", fields={"file": ["Empty."]})
    name = f"official.{kind}"
    try:
        rows = service.read_official_upload(data, name)
    except TableError as exc:
        raise ApiError(422, f"The official list was refused, nothing stored: {exc}", code="crosswalk_refused",
                       fields={"file": [str(exc)]}) from None
    return _load_official(from_name, to_name, rows, args["source_name"] or name)
