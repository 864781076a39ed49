"""Outlines simplified for a web-map zoom, as GeoJSON text.

Pure geometry (Shapely and NumPy only): each outline is simplified to about
one screen pixel at the zoom and its coordinates rounded to the precision
that pixel needs, then written once as compact GeoJSON text, so that a map
answer only pastes the stored text next to the figures.
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

TILE_PIXELS = 256


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


def outline_texts(geoms: Sequence[Any], zoom: int) -> list[str]:
    """Each geometry simplified for ``zoom``, as compact GeoJSON text (same order)."""
    simple = shapely.simplify(np.asarray(geoms, dtype=object), pixel_degrees(zoom), preserve_topology=True)
    decimals = decimals_for(zoom)
    return [json.dumps(geometry_dict(g, decimals), separators=(",", ":")) for g in simple]
