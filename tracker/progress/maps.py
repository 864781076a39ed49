"""Completion-map layers: communes with their progress, households as points.

Commune outlines are simplified to about one screen pixel at the zoom asked
and rounded to the precision that pixel needs; the simplified outlines are
cached per process, boundary set version and zoom. Layers are built with the
``geojson`` library.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from datetime import date, datetime
from threading import Lock
from typing import Any

import geojson
import numpy as np
import shapely
from sqlalchemy import select

from tracker.boundaries.models import AdminUnit, BoundarySet
from tracker.boundaries.service import geometry_key, unit_shapes
from tracker.extensions import db
from tracker.households.models import HouseholdRevision, RevisionAssignment
from tracker.progress.service import ReportContext, known_filter, progress_report
from tracker.progress.tallies import build_row, empty_tally

TILE_PIXELS = 256
CACHE_SIZE = 24
_CACHE: OrderedDict[tuple[Any, ...], dict[str, geojson.MultiPolygon]] = OrderedDict()
_LOCK = Lock()


def pixel_degrees(zoom: int) -> float:
    """Width of one screen pixel in degrees of longitude at ``zoom`` (Web Mercator)."""
    return 360.0 / (TILE_PIXELS * 2**zoom)


def decimals_for(zoom: int) -> int:
    """Coordinate decimals that keep rounding under a tenth of a pixel."""
    return max(1, min(6, math.ceil(-math.log10(pixel_degrees(zoom) / 10))))


def _ring(coords: np.ndarray, decimals: int) -> list[list[float]]:
    rounded = np.round(coords[:, :2], decimals)
    keep = np.ones(len(rounded), dtype=bool)
    keep[1:] = np.any(rounded[1:] != rounded[:-1], axis=1)
    deduped = rounded[keep]
    if len(deduped) >= 4:
        rounded = deduped
    return rounded.tolist()


def geometry_dict(geom: Any, decimals: int) -> dict[str, Any]:
    """A (Multi)Polygon as a GeoJSON MultiPolygon dict with rounded coordinates."""
    polygons = []
    for part in shapely.get_parts(geom):
        if part.geom_type != "Polygon" or part.is_empty:
            continue
        rings = [_ring(np.asarray(part.exterior.coords), decimals)]
        rings += [_ring(np.asarray(r.coords), decimals) for r in part.interiors]
        polygons.append(rings)
    return {"type": "MultiPolygon", "coordinates": polygons}


def simplified_outlines(boundary_set: BoundarySet, zoom: int) -> dict[str, geojson.MultiPolygon]:
    """``{commune code: GeoJSON geometry}`` simplified for ``zoom`` (cached)."""
    key = (*geometry_key(boundary_set), zoom)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    shapes = unit_shapes(boundary_set)
    simple = shapely.simplify([g for _, _, g in shapes], pixel_degrees(zoom), preserve_topology=True)
    decimals = decimals_for(zoom)
    outlines = {code: geojson.MultiPolygon(geometry_dict(g, decimals)["coordinates"], precision=decimals)
                for (code, _, _), g in zip(shapes, simple)}
    with _LOCK:
        _CACHE[key] = outlines
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return outlines


class Encoder(geojson.GeoJSONEncoder):
    """GeoJSON objects, plus dates and times as ISO 8601 strings."""

    def default(self, obj: Any) -> Any:
        if isinstance(obj, (date, datetime)):
            return obj.isoformat()
        return super().default(obj)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def communes_layer(ctx: ReportContext, zoom: int, key: tuple[Any, ...] | None = None) -> geojson.FeatureCollection:
    """Every commune in scope, its outline and the progress row as properties."""
    report = progress_report(ctx, "commune", key)
    rows = {row["code"]: row for row in report.rows}
    outlines = simplified_outlines(ctx.boundary_set, zoom)
    units = {
        code: (name, parent) for code, name, parent in db.session.execute(
            select(AdminUnit.code, AdminUnit.name, AdminUnit.parent_code)
            .where(AdminUnit.boundary_set_id == ctx.boundary_set.id, AdminUnit.level == "commune")
        )
    }
    features = []
    for code, outline in outlines.items():
        if ctx.scope is not None and code not in ctx.scope:
            continue
        if code not in rows:
            name, parent = units.get(code, (None, None))
            rows[code] = build_row(code, name, "commune", parent, empty_tally(), ctx)
        row = rows[code]
        features.append(geojson.Feature(id=code, geometry=outline, properties=row))
    collection = geojson.FeatureCollection(features)
    collection["as_of"] = ctx.as_of.isoformat()
    collection["known_at"] = ctx.known_at.isoformat()
    collection["boundary_set"] = ctx.boundary_set.name
    collection["plan"] = _jsonable(ctx.plan_ref())
    collection["zoom"] = zoom
    return collection


def household_points_query(
    boundary_set: BoundarySet,
    known_at: datetime,
    scope: frozenset[str] | None,
    *,
    commune: str | None = None,
    status: str | None = None,
    support_type: str | None = None,
    limit: int = 20_000,
) -> Any:
    """The query of households known at ``known_at`` (``limit`` + 1 rows, to tell truncation)."""
    hr, ra = HouseholdRevision, RevisionAssignment
    query = (
        select(hr.household_id, hr.household_head, hr.status, hr.support_type, hr.lat, hr.lon,
               hr.started_on, hr.completed_on, hr.handed_over_on, ra.commune_code, ra.flag, ra.needs_review,
               ra.details)
        .join(ra, (ra.revision_id == hr.id) & (ra.boundary_set_id == boundary_set.id))
        .where(known_filter(known_at))
        .order_by(hr.household_id)
        .limit(limit + 1)
    )
    if scope is not None:
        query = query.where(ra.commune_code.in_(sorted(scope)))
    if commune is not None:
        query = query.where(ra.commune_code == commune)
    if status is not None:
        query = query.where(hr.status == status)
    if support_type is not None:
        query = query.where(hr.support_type == support_type)
    return query


def point_feature(row: Any) -> geojson.Feature | None:
    details = row.details or {}
    lat, lon = details.get("lat", row.lat), details.get("lon", row.lon)
    if lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90:
        return None
    return geojson.Feature(
        id=row.household_id,
        geometry=geojson.Point((round(lon, 6), round(lat, 6))),
        properties={
            "household_head": row.household_head,
            "status": row.status,
            "support_type": row.support_type,
            "commune": row.commune_code,
            "flag": row.flag,
            "needs_review": bool(row.needs_review),
            "started_on": _jsonable(row.started_on),
            "completed_on": _jsonable(row.completed_on),
            "handed_over_on": _jsonable(row.handed_over_on),
        },
    )
