"""Base maps of boundary sets, built once per process and set version."""
from __future__ import annotations

from collections import OrderedDict
from threading import Lock

import shapely
from sqlalchemy import select

from tracker.boundaries.models import AdminUnit, BoundarySet
from tracker.extensions import db
from tracker.web.svgmap import BaseMap, build_base_map

MAP_WIDTH = 1000
TOLERANCE = 1.2  # map units: about a pixel at the size the map is shown
_CACHE: OrderedDict[tuple[str, int, int, str, str], BaseMap] = OrderedDict()
_LOCK = Lock()
_MAX = 16


def base_map(boundary_set: BoundarySet, level: str = "commune") -> BaseMap:
    key = (str(db.engine.url), boundary_set.id, boundary_set.version, boundary_set.checksum, level)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    rows = db.session.execute(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.geometry_wkb)
        .where(AdminUnit.boundary_set_id == boundary_set.id, AdminUnit.level == level)
        .order_by(AdminUnit.code)
    ).all()
    outline_rows = db.session.scalars(
        select(AdminUnit.geometry_wkb).where(AdminUnit.boundary_set_id == boundary_set.id,
                                             AdminUnit.level == "province")
    ).all()
    geoms = shapely.from_wkb([r.geometry_wkb for r in rows]) if rows else []
    outline = shapely.union_all(shapely.from_wkb(list(outline_rows))) if outline_rows else None
    built = build_base_map([(r.code, r.name, g) for r, g in zip(rows, geoms)], MAP_WIDTH, TOLERANCE, outline)
    with _LOCK:
        _CACHE[key] = built
        while len(_CACHE) > _MAX:
            _CACHE.popitem(last=False)
    return built
