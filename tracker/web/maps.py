"""Base maps of boundary sets, built once per process and set version."""
from __future__ import annotations

from collections import OrderedDict
from threading import Lock

import shapely

from tracker.boundaries.models import BoundarySet
from tracker.boundaries.service import geometry_key, unit_shapes
from tracker.web.svgmap import BaseMap, build_base_map

MAP_WIDTH = 1000
TOLERANCE = 1.2  # map units: about a pixel at the size the map is shown
_CACHE: OrderedDict[tuple[str, int, int, str, str], BaseMap] = OrderedDict()
_LOCK = Lock()
_MAX = 16


def base_map(boundary_set: BoundarySet, level: str = "commune") -> BaseMap:
    key = (*geometry_key(boundary_set), level)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    provinces = [g for _, _, g in unit_shapes(boundary_set, "province")]
    outline = shapely.union_all(provinces) if provinces else None
    built = build_base_map(unit_shapes(boundary_set, level), MAP_WIDTH, TOLERANCE, outline)
    with _LOCK:
        _CACHE[key] = built
        while len(_CACHE) > _MAX:
            _CACHE.popitem(last=False)
    return built
