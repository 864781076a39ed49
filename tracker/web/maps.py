"""Base maps of boundary sets: drawn once per set version, stored, and kept per process.

Drawing the national commune map (projecting and simplifying 11,163
outlines as a coverage) takes seconds. The base maps are therefore drawn
when a set is imported, in the import's transaction (beside the outlines
per zoom), and stored in ``svg_base_maps``; every worker, also after a
restart, reads the stored drawing. A set imported before that table existed
is drawn on first need and kept per process until ``flask boundaries
outlines`` stores its drawings.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from threading import Lock

import shapely
from sqlalchemy import delete, select

from tracker.boundaries.models import BoundarySet, SvgBaseMap
from tracker.boundaries.service import geometry_key, unit_shapes
from tracker.extensions import db
from tracker.web.svgmap import BaseMap, Projection, Shape, build_base_map

MAP_WIDTH = 1000
TOLERANCE = 1.2  # map units: about a pixel at the size the map is shown
_CACHE: OrderedDict[tuple[str, int, int, str, str], BaseMap] = OrderedDict()
_LOCK = Lock()
_MAX = 16
PREPARED_LEVELS = ("commune", "district")  # the pages draw communes, with district borders over them


def base_map(boundary_set: BoundarySet, level: str = "commune") -> BaseMap:
    key = (*geometry_key(boundary_set), level)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    built = _stored(boundary_set, level, _version(boundary_set))
    if built is None:
        built = _draw(boundary_set, level)
    with _LOCK:
        _CACHE[key] = built
        while len(_CACHE) > _MAX:
            _CACHE.popitem(last=False)
    return built


def _stored(boundary_set: BoundarySet, level: str, version: str) -> BaseMap | None:
    body = db.session.scalar(select(SvgBaseMap.body).where(
        SvgBaseMap.boundary_set_id == boundary_set.id, SvgBaseMap.level == level,
        SvgBaseMap.geometry_version == version))
    return None if body is None else from_json(body)


def _version(boundary_set: BoundarySet) -> str:
    return f"{boundary_set.version}:{boundary_set.checksum}:{MAP_WIDTH}:{TOLERANCE}"


def _draw(boundary_set: BoundarySet, level: str) -> BaseMap:
    provinces = [g for _, _, g in unit_shapes(boundary_set, "province")]
    outline = shapely.union_all(provinces) if provinces else None
    return build_base_map(unit_shapes(boundary_set, level), MAP_WIDTH, TOLERANCE, outline)


def prepare_base_maps(boundary_set: BoundarySet, levels: tuple[str, ...] = PREPARED_LEVELS) -> None:
    """Draw and store the set's base maps of ``levels``; the caller commits."""
    db.session.execute(delete(SvgBaseMap).where(SvgBaseMap.boundary_set_id == boundary_set.id))
    for level in levels:
        db.session.add(SvgBaseMap(boundary_set_id=boundary_set.id, level=level, geometry_version=_version(boundary_set),
                                  body=to_json(_draw(boundary_set, level))))
    db.session.flush()


def to_json(base: BaseMap) -> str:
    p = base.projection
    return json.dumps({
        "width": base.width, "height": base.height, "projection": [p.west, p.north, p.kx, p.ky],
        "shapes": [[s.code, s.name, s.path, *s.centre] for s in base.shapes],
        "outline": base.outline, "stats": base.stats,
    }, ensure_ascii=False, separators=(",", ":"))


def from_json(text: str) -> BaseMap:
    data = json.loads(text)
    return BaseMap(data["width"], data["height"], Projection(*data["projection"]),
                   tuple(Shape(code, name, path, (x, y)) for code, name, path, x, y in data["shapes"]),
                   data["outline"], data["stats"])
