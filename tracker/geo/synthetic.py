"""A synthetic province drawn by code, for demos and tests without real data.

The real boundary files may not be redistributed (see ``sources.py``), so the
project must run without them. This module draws a made-up province in the
hills west of Hà Nội's latitude: one province, three districts and a dozen or
so communes, with the same properties as the real files and a ``synthetic``
label on every feature so nobody mistakes it for real geography.

The communes tile the province exactly: their edges are noded on a 1e-6°
grid (the precision of the real files) and shared vertex for vertex, so there
are no gaps and no overlaps, and each district is the union of its communes.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

GRID = 1e-6
CENTRE = (104.0, 21.3)
RADII = (0.42, 0.25)

PROVINCE_CODE = "99"
PROVINCE_NAME = "Tỉnh Mẫu (tổng hợp)"
PROVINCE_NAME_ASCII = "Tinh Mau (tong hop)"

# (code, name, name_ascii, type); the first district is a small city with wards.
DISTRICTS = [
    ("901", "Thành phố Mẫu 1", "Thanh pho Mau 1", "Thành phố"),
    ("902", "Huyện Mẫu 2", "Huyen Mau 2", "Huyện"),
    ("903", "Huyện Mẫu 3", "Huyen Mau 3", "Huyện"),
]
WARDS_IN_CITY = 2


@dataclass(frozen=True)
class SyntheticBoundaries:
    """Feature dicts shaped like the real GeoJSON files, one list per level."""

    province: list[dict[str, Any]]
    districts: list[dict[str, Any]]
    communes: list[dict[str, Any]]

    def all_features(self) -> list[dict[str, Any]]:
        """Province, districts and communes in one list (one import file)."""
        return [*self.province, *self.districts, *self.communes]


def synthetic_province(seed: int = 7) -> SyntheticBoundaries:
    """Draw the province for ``seed``; the same seed always gives the same map."""
    rng = np.random.default_rng(seed)
    outline = _wobbly_outline(rng)
    district_cells = _voronoi_cells(_spread_points(outline, 3, rng), outline)
    counts = _communes_per_district(district_cells, rng)
    cells, owners = [], []
    for index, (cell, count) in enumerate(zip(district_cells, counts)):
        for commune_cell in _voronoi_cells(_spread_points(cell, count, rng), cell):
            cells.append(commune_cell)
            owners.append(index)
    communes = _shared_grid_coverage(cells)
    return _features(communes, owners)


def write_geojson(features: list[dict[str, Any]], path: str | Path) -> Path:
    """Write ``features`` as an RFC 7946 FeatureCollection (UTF-8, names as is)."""
    path = Path(path)
    collection = {"type": "FeatureCollection", "features": list(features)}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(collection, handle, ensure_ascii=False)
    return path


def _wobbly_outline(rng: np.random.Generator) -> Polygon:
    """A star-shaped blob whose radius wobbles by at most 15 %, so it stays simple."""
    angles = np.linspace(0.0, 2.0 * math.pi, 120, endpoint=False)
    radius = np.ones_like(angles)
    for k, amplitude in zip(range(2, 7), (0.05, 0.04, 0.03, 0.02, 0.01)):
        radius += amplitude * np.sin(k * angles + rng.uniform(0, 2 * math.pi))
    lon = CENTRE[0] + RADII[0] * radius * np.cos(angles)
    lat = CENTRE[1] + RADII[1] * radius * np.sin(angles)
    return Polygon(np.column_stack([lon, lat]))


def _spread_points(area: BaseGeometry, count: int, rng: np.random.Generator) -> list[Point]:
    """Random points inside ``area``, evened out by Lloyd steps so cells look like communes."""
    points = _random_points_in(area, count, rng)
    for _ in range(3):
        cells = _voronoi_cells(points, area)
        points = [_centre_inside(cell, area) for cell in cells]
    return points


def _centre_inside(cell: BaseGeometry, area: BaseGeometry) -> Point:
    """The cell's centroid, or a point on its surface when the centroid falls outside."""
    centroid = cell.centroid
    return centroid if area.contains(centroid) else cell.point_on_surface()


def _random_points_in(area: BaseGeometry, count: int, rng: np.random.Generator) -> list[Point]:
    """Rejection sampling inside the bounding box of ``area``."""
    minx, miny, maxx, maxy = area.bounds
    found: list[Point] = []
    while len(found) < count:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if area.contains(Point(x, y)):
            found.append(Point(x, y))
    return found


def _voronoi_cells(points: list[Point], area: BaseGeometry) -> list[BaseGeometry]:
    """The Voronoi cell of each point clipped to ``area``, in the points' order."""
    diagram = shapely.voronoi_polygons(
        shapely.MultiPoint(points), extend_to=area.envelope.buffer(1.0), ordered=True
    )
    return [cell.intersection(area) for cell in diagram.geoms]


def _communes_per_district(cells: list[BaseGeometry], rng: np.random.Generator) -> list[int]:
    """12-16 communes shared among districts by area, at least four each."""
    total = int(rng.integers(12, 17))
    areas = np.array([cell.area for cell in cells])
    counts = np.maximum(4, np.floor(total * areas / areas.sum())).astype(int)
    while counts.sum() < total:
        counts[int(np.argmax(areas / counts))] += 1
    return counts.tolist()


def _shared_grid_coverage(cells: list[BaseGeometry]) -> list[BaseGeometry]:
    """Re-draw the cells from one noded, grid-snapped linework so edges are shared exactly."""
    lines = shapely.union_all([cell.boundary for cell in cells], grid_size=GRID)
    faces = list(shapely.polygonize(list(_line_parts(lines))).geoms)
    pieces: list[list[BaseGeometry]] = [[] for _ in cells]
    for face in faces:
        probe = face.point_on_surface()
        owner = next((i for i, cell in enumerate(cells) if cell.contains(probe)), None)
        if owner is None:
            owner = max(range(len(cells)), key=lambda i: cells[i].intersection(face).area)
        pieces[owner].append(face)
    return [shapely.union_all(parts, grid_size=GRID) for parts in pieces]


def _line_parts(lines: BaseGeometry):
    """The single LineStrings of a (multi)line result."""
    return getattr(lines, "geoms", [lines])


def _features(communes: list[BaseGeometry], owners: list[int]) -> SyntheticBoundaries:
    """Wrap the commune shapes, their districts and the province as Feature dicts."""
    commune_features = []
    wards_left = WARDS_IN_CITY
    for number, (shape, owner) in enumerate(zip(communes, owners), start=1):
        is_ward = owner == 0 and wards_left > 0
        wards_left -= int(is_ward)
        kind, kind_ascii = ("Phường", "Phuong") if is_ward else ("Xã", "Xa")
        commune_features.append(_feature(shape, {
            "code": f"9{number:04d}",
            "name": f"{kind} Mẫu {number}",
            "name_ascii": f"{kind_ascii} Mau {number}",
            "type": kind,
            "district": DISTRICTS[owner][0],
            "province": PROVINCE_NAME,
        }))
    district_features = []
    for index, (code, name, name_ascii, kind) in enumerate(DISTRICTS):
        members = [shape for shape, owner in zip(communes, owners) if owner == index]
        district_features.append(_feature(shapely.union_all(members, grid_size=GRID), {
            "code": code, "name": name, "name_ascii": name_ascii, "type": kind,
            "province": PROVINCE_NAME,
        }))
    province = _feature(shapely.union_all(communes, grid_size=GRID), {
        "code": PROVINCE_CODE, "name": PROVINCE_NAME, "name_ascii": PROVINCE_NAME_ASCII,
        "type": "Tỉnh", "province": PROVINCE_NAME,
    })
    return SyntheticBoundaries([province], district_features, commune_features)


def _feature(shape: BaseGeometry, properties: dict[str, Any]) -> dict[str, Any]:
    """One RFC 7946 Feature with a MultiPolygon geometry and the synthetic label."""
    return {
        "type": "Feature",
        "properties": {**properties, "synthetic": True},
        "geometry": _multipolygon_json(shape),
    }


def _multipolygon_json(shape: BaseGeometry) -> dict[str, Any]:
    """Counter-clockwise exteriors (RFC 7946), coordinates as plain lists."""
    polygons = [g for g in getattr(shape, "geoms", [shape]) if isinstance(g, Polygon)]
    oriented = shapely.orient_polygons(MultiPolygon(polygons), exterior_cw=False)
    coordinates = [
        [[[round(x, 6), round(y, 6)] for x, y in ring.coords]
         for ring in (polygon.exterior, *polygon.interiors)]
        for polygon in oriented.geoms
    ]
    return {"type": "MultiPolygon", "coordinates": coordinates}
