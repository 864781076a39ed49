"""Completion-map layers: communes with their progress, households as points.

Commune outlines come prepared for the zoom asked, as GeoJSON text (see
:mod:`tracker.boundaries.outlines`); the layer puts each next to its
commune's figures as an ``orjson.Fragment``, so encoding the answer never
parses or re-encodes a coordinate. Point layers are built with the
``geojson`` library.
"""
from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import geojson
import orjson
from sqlalchemy import select

from tracker.boundaries.models import BoundarySet
from tracker.boundaries.outlines import outlines
from tracker.households.models import HouseholdRevision, RevisionAssignment
from tracker.progress.finish import with_finish
from tracker.progress.service import ReportContext, known_filter, progress_report, set_units
from tracker.progress.tallies import Unit, build_rows, empty_tally


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


def communes_layer(ctx: ReportContext, zoom: int, key: tuple[Any, ...] | None = None) -> dict[str, Any]:
    """Every commune in scope, its prepared outline and the progress row as properties."""
    report = progress_report(ctx, "commune", key)
    rows = {row["code"]: row for row in report.rows}
    shapes = outlines(ctx.boundary_set, zoom)
    units = set_units(ctx.boundary_set)
    shown = [code for code in shapes if ctx.scope is None or code in ctx.scope]
    bare = [units.get(code) or Unit(code, "", "commune", None) for code in shown if code not in rows]
    for row in build_rows([u.code for u in bare], [u.name or None for u in bare], "commune",
                          [u.parent_code for u in bare], [empty_tally() for _ in bare], ctx):
        rows[row["code"]] = row
    properties = with_finish(ctx, [rows[code] for code in shown])  # the API's rows, field for field
    features = [{"type": "Feature", "id": code, "geometry": orjson.Fragment(shapes[code]), "properties": row}
                for code, row in zip(shown, properties)]
    collection: dict[str, Any] = {"type": "FeatureCollection", "features": features}  # no copy through geojson
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
