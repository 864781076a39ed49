"""``/api/v1/progress``, ``/api/v1/map/communes.geojson``, ``/api/v1/households.geojson``."""
from __future__ import annotations

from typing import Any

import geojson
from flask import Response, request
from marshmallow import RAISE

from schemas.progress import GeoJsonSchema, HouseholdPointArgs, MapArgs, ProgressArgs, ProgressReportSchema
from tracker.accounts.auth import auth_required, principal
from tracker.api import Blueprint
from tracker.consistent_reads import consistent_reads
from tracker.dbtypes import utcnow
from tracker.extensions import db
from tracker.progress import answers, maps
from tracker.progress.service import context_from_args, resolve_set

blp = Blueprint("progress", __name__, url_prefix="/api/v1", description="Progress reports and completion maps")

BEARER = [{"bearerAuth": []}]
GZIP_MIN_BYTES = 1024


def _etag_matches(etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = {t.strip().removeprefix("W/").strip('"') for t in header.split(",")}
    return etag in tags or f"{etag}-gz" in tags


def json_answer(answer: answers.Body) -> Response:
    """A GeoJSON body, gzipped when the client accepts it, with an ETag and 304s."""
    etag = answer.etag
    if _etag_matches(etag):
        response = Response(status=304)
        response.headers["ETag"] = f'"{etag}"'
        return response
    if answer.size() >= GZIP_MIN_BYTES and "gzip" in request.headers.get("Accept-Encoding", "").lower():
        response = Response(answer.gzipped(), mimetype="application/geo+json")
        response.headers["Content-Encoding"] = "gzip"
        etag = f"{etag}-gz"
    else:
        response = Response(answer.body, mimetype="application/geo+json")
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Vary"] = "Accept-Encoding, Authorization"
    response.headers["ETag"] = f'"{etag}"'
    return response


@blp.route("/progress")
@consistent_reads
@blp.doc(security=BEARER)
@auth_required()
@blp.arguments(ProgressArgs, location="query", unknown=RAISE)
@blp.response(200, ProgressReportSchema)
def progress(args: dict[str, Any]) -> dict[str, Any]:
    """Progress rolled up by commune, district or province.

    ``as_of`` counts field work by the status dates; ``known_at`` counts only
    what the server had received by then, so a report can be reproduced.
    """
    ctx = context_from_args(args, principal().commune_scope())
    return Response(answers.progress_json(ctx, args["level"], "known_at" not in args), mimetype="application/json")


@blp.route("/map/communes.geojson")
@consistent_reads
@blp.doc(security=BEARER)
@auth_required()
@blp.arguments(MapArgs, location="query", unknown=RAISE)
@blp.response(200, GeoJsonSchema, content_type="application/geo+json")
def communes_map(args: dict[str, Any]) -> Response:
    """Communes with the progress figures as properties (ETag / If-None-Match aware)."""
    ctx = context_from_args(args, principal().commune_scope())
    return json_answer(answers.communes_map(ctx, args["zoom"], "known_at" not in args))


@blp.route("/households.geojson")
@consistent_reads
@blp.doc(security=BEARER)
@auth_required()
@blp.arguments(HouseholdPointArgs, location="query", unknown=RAISE)
@blp.response(200, GeoJsonSchema, content_type="application/geo+json")
def households_map(args: dict[str, Any]) -> Response:
    """Households as points, with status and support type; filter by commune, status, type."""
    boundary_set = resolve_set(args.get("set_name"))  # a known_at's writes were waited for (consistent_reads)
    known_at = args.get("known_at") or utcnow()
    limit = args["limit"]
    query = maps.household_points_query(
        boundary_set, known_at, principal().commune_scope(), commune=args.get("commune"),
        status=args.get("status"), support_type=args.get("support_type"), limit=limit,
    )
    rows = db.session.execute(query).all()
    features = [f for f in (maps.point_feature(r) for r in rows[:limit]) if f is not None]
    collection = geojson.FeatureCollection(features)
    collection["boundary_set"] = boundary_set.name
    collection["known_at"] = known_at.isoformat()
    collection["truncated"] = len(rows) > limit
    return json_answer(answers.collection_body(collection, () if "known_at" in args else ("known_at",)))
