"""``/api/v1/progress``, ``/api/v1/map/communes.geojson``, ``/api/v1/households.geojson``."""
from __future__ import annotations

import gzip
import hashlib
import json
from typing import Any

import geojson
import orjson
from flask import Response, request
from marshmallow import RAISE

from schemas.progress import GeoJsonSchema, HouseholdPointArgs, MapArgs, ProgressArgs, ProgressReportSchema
from tracker import jsoncodec
from tracker.accounts.auth import auth_required, principal
from tracker.api import Blueprint
from tracker.compression import gzipped
from tracker.dbtypes import utcnow
from tracker.extensions import db
from tracker.households import ledger
from tracker.progress import maps, stored_answers
from tracker.progress.finish import finished_report
from tracker.progress.service import context_from_args, progress_report, remember, report_key, resolve_set
from tracker.progress.tallies import collector_paused

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


def collection_body(collection: dict[str, Any], volatile: tuple[str, ...] = ()) -> tuple[bytes, str]:
    """The collection as UTF-8 JSON, and an ETag over everything but ``volatile`` members.

    A defaulted ``known_at`` ("now") is volatile: the same figures known a
    second later are the same representation.
    """
    features = orjson.dumps(collection["features"])
    meta = {k: v for k, v in collection.items() if k != "features"}
    stable = json.dumps({k: v for k, v in meta.items() if k not in volatile}, cls=maps.Encoder,
                        sort_keys=True).encode("utf-8")
    digest = hashlib.sha256(stable + b"\0")
    digest.update(features)  # a national map's features are 11 MB: hashed and joined without more copies
    head = json.dumps(meta, cls=maps.Encoder, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b"".join((head[:-1], b',"features":', features, b"}")), digest.hexdigest()[:32]


class Body:
    """A GeoJSON answer ready to send: the bytes, the ETag, the gzipped bytes once asked for.

    Made from either form (an answer stored gzipped is unpacked only for a
    client that does not take gzip).
    """

    def __init__(self, body: bytes | None, etag: str, gzipped_body: bytes | None = None) -> None:
        self._body, self.etag, self._gzipped = body, etag, gzipped_body

    @property
    def body(self) -> bytes:
        if self._body is None:
            assert self._gzipped is not None
            self._body = gzip.decompress(self._gzipped)
        return self._body

    def size(self) -> int:
        """The length of the body (a gzip member ends with it, modulo 4 GiB)."""
        if self._body is None and self._gzipped is not None:
            return int.from_bytes(self._gzipped[-4:], "little")
        return len(self.body)

    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzipped(self._body or b"")
        return self._gzipped


def json_answer(answer: Body) -> Response:
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
    key = report_key(ctx)

    def encode() -> bytes:
        # The service builds exactly ProgressReportSchema's shape (a test
        # holds them equal); encoding directly keeps a national report fast.
        with collector_paused():
            return jsoncodec.dumps_bytes(finished_report(progress_report(ctx, args["level"], key)).as_dict())

    asked = ctx.known_at.isoformat() if "known_at" in args else "now"
    body = remember("json", None if key is None else key + (args["level"], asked), encode, entries=8)
    return Response(body, mimetype="application/json")


@blp.route("/map/communes.geojson")
@blp.doc(security=BEARER)
@auth_required()
@blp.arguments(MapArgs, location="query", unknown=RAISE)
@blp.response(200, GeoJsonSchema, content_type="application/geo+json")
def communes_map(args: dict[str, Any]) -> Response:
    """Communes with the progress figures as properties (ETag / If-None-Match aware)."""
    ctx = context_from_args(args, principal().commune_scope())
    key = report_key(ctx)
    volatile = () if "known_at" in args else ("known_at",)

    name = f"map:{args['zoom']}"

    def build() -> Body:
        now = "known_at" not in args  # a past known_at is rare: built each time, never stored
        stored = stored_answers.read(ctx, name) if now else None
        if stored is not None:
            return Body(None, stored[1], stored[0])
        generation = stored_answers.since(ctx) if now else None
        with collector_paused():  # the layer's 11,163 features are gone before the collector runs again
            answer = Body(*collection_body(maps.communes_layer(ctx, args["zoom"], key), volatile))
        if generation is not None:
            stored_answers.keep(ctx, name, generation, answer.gzipped(), answer.etag)
        return answer

    asked = ctx.known_at.isoformat() if "known_at" in args else "now"
    map_key = None if key is None else (key, args["zoom"], asked)
    return json_answer(remember("map", map_key, build, entries=4))


@blp.route("/households.geojson")
@blp.doc(security=BEARER)
@auth_required()
@blp.arguments(HouseholdPointArgs, location="query", unknown=RAISE)
@blp.response(200, GeoJsonSchema, content_type="application/geo+json")
def households_map(args: dict[str, Any]) -> Response:
    """Households as points, with status and support type; filter by commune, status, type."""
    boundary_set = resolve_set(args.get("set_name"))
    if args.get("known_at") is not None:
        ledger.settle()  # writes stamped by then have committed: the answer can be had again
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
    return json_answer(Body(*collection_body(collection, () if "known_at" in args else ("known_at",))))
