"""Drawing the completion map as SVG: pure Python (Shapely, numpy), no Flask.

Why server-side SVG: a provincial officer on a 3G phone gets one HTML page
with the map inline (a few tens of kilobytes gzipped), no JavaScript
library, no tiles and no CDN, and it works with no internet at all. Each
commune is an SVG ``<a>`` link, so a tap opens its figures.

The steps:

* **project** longitude/latitude to a flat plane (equirectangular, with the
  x axis scaled by the cosine of the middle latitude, which is accurate to a
  few tenths of a per cent across a province) and scale it to a ``width`` ×
  ``height`` box of SVG user units;
* **simplify** in that box with a tolerance in units (about a pixel at the
  size the map is shown), as a coverage when the polygons form one (shared
  borders stay shared, no slivers), else polygon by polygon;
* **write** each commune as one path of whole-unit, relative moves, which is
  what keeps 200 communes in tens of kilobytes.

The base map (:class:`BaseMap`) depends only on the geometries, so callers
cache it per boundary set version; colouring a map for a date is then only
string assembly (:func:`render_map`).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

# Completion classes, low to high: a colour-blind-safe sequential scale
# (viridis, five steps). ``pn`` marks a commune with nothing planned.
PERCENT_BINS: tuple[tuple[str, float, float, str], ...] = (
    ("p0", 0.0, 25.0, "#440154"),
    ("p1", 25.0, 50.0, "#3b528b"),
    ("p2", 50.0, 75.0, "#21918c"),
    ("p3", 75.0, 100.0, "#5ec962"),
    ("p4", 100.0, math.inf, "#fde725"),
)
NO_PLAN = ("pn", "#d9d9d9")

# Household points by status (Okabe-Ito colours, safe for colour blindness).
STATUS_CLASSES: dict[str, str] = {
    "surveyed": "s0",
    "approved": "s0",
    "started": "s1",
    "completed": "s2",
    "handed_over": "s2",
    "withdrawn": "s3",
}
STATUS_COLOURS = {"s0": "#ffffff", "s1": "#e69f00", "s2": "#56b4e9", "s3": "#999999"}


def percent_class(percent: float | None) -> str:
    """The colour class of a completion percentage (``None``: nothing planned)."""
    if percent is None or (isinstance(percent, float) and math.isnan(percent)):
        return NO_PLAN[0]
    for name, low, high, _colour in PERCENT_BINS:
        if low <= percent < high:
            return name
    return PERCENT_BINS[0][0] if percent < 0 else PERCENT_BINS[-1][0]


@dataclass(frozen=True)
class Projection:
    """Longitude/latitude to SVG user units (y grows downwards)."""

    west: float
    north: float
    kx: float
    ky: float

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.west) * self.kx, (self.north - lat) * self.ky

    def array(self, coords: np.ndarray) -> np.ndarray:
        out = np.empty_like(coords, dtype=float)
        out[:, 0] = (coords[:, 0] - self.west) * self.kx
        out[:, 1] = (self.north - coords[:, 1]) * self.ky
        return out


def fit_projection(bounds: tuple[float, float, float, float], width: float, margin: float = 4.0) -> tuple[Projection, int]:
    """A projection of ``bounds`` (west, south, east, north) into ``width`` units; returns it and the height."""
    west, south, east, north = bounds
    mid = math.radians((south + north) / 2)
    aspect = max(math.cos(mid), 0.05)
    span_x = max((east - west) * aspect, 1e-9)
    span_y = max(north - south, 1e-9)
    scale = (width - 2 * margin) / span_x
    height = int(math.ceil(span_y * scale + 2 * margin))
    projection = Projection(west - margin / (scale * aspect), north + margin / scale, scale * aspect, scale)
    return projection, height


@dataclass(frozen=True)
class Shape:
    code: str
    name: str
    path: str
    centre: tuple[int, int]


@dataclass(frozen=True)
class BaseMap:
    width: int
    height: int
    projection: Projection
    shapes: tuple[Shape, ...]
    outline: str = ""
    stats: dict[str, int] = field(default_factory=dict)

    def shape(self, code: str) -> Shape | None:
        return next((s for s in self.shapes if s.code == code), None)


def _ring_path(coords: np.ndarray) -> str:
    """One ring as ``M x y l dx dy …z`` in whole units, repeated points dropped."""
    pts = np.rint(coords).astype(np.int64)
    if len(pts) > 1 and (pts[0] == pts[-1]).all():
        pts = pts[:-1]
    if len(pts) == 0:
        return ""
    keep = np.ones(len(pts), dtype=bool)
    keep[1:] = (np.diff(pts, axis=0) != 0).any(axis=1)
    pts = pts[keep]
    if len(pts) < 3:
        return ""
    deltas = np.diff(pts, axis=0)
    parts = [f"M{pts[0][0]} {pts[0][1]}"]
    if len(deltas):
        parts.append("l" + " ".join(f"{dx} {dy}" for dx, dy in deltas.tolist()).replace(" -", "-"))
    parts.append("z")
    return "".join(parts)


def geometry_path(geometry: BaseGeometry) -> str:
    """SVG path data of a (multi)polygon already in map units."""
    rings: list[str] = []
    for polygon in shapely.get_parts(geometry):
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        for ring in (polygon.exterior, *polygon.interiors):
            path = _ring_path(np.asarray(ring.coords)[:, :2])
            if path:
                rings.append(path)
    return "".join(rings)


def _simplify(geoms: list[BaseGeometry], tolerance: float) -> list[BaseGeometry]:
    """Simplify as a coverage when possible (shared borders stay shared)."""
    if tolerance <= 0:
        return geoms
    array = np.asarray(geoms, dtype=object)
    try:
        if shapely.coverage_is_valid(array):
            simplified = list(shapely.coverage_simplify(array, tolerance))
            if all(g is not None and not g.is_empty for g in simplified):
                return simplified
    except Exception:  # GEOS without coverage support, or a failure: fall back
        pass
    return [g.simplify(tolerance, preserve_topology=True) for g in geoms]


def build_base_map(
    units: Sequence[tuple[str, str, BaseGeometry]],
    width: int = 1000,
    tolerance: float = 1.0,
    outline: BaseGeometry | None = None,
) -> BaseMap:
    """Project and simplify communes given as (code, name, lon/lat geometry)."""
    geoms = [g for _, _, g in units]
    if not geoms:
        projection, height = fit_projection((0.0, 0.0, 1.0, 1.0), width)
        return BaseMap(width, height, projection, ())
    bounds = tuple(shapely.total_bounds(np.asarray(geoms + ([outline] if outline is not None else []), dtype=object)))
    projection, height = fit_projection(bounds, width)  # type: ignore[arg-type]
    projected = [shapely.transform(g, projection.array) for g in geoms]
    before = int(shapely.get_num_coordinates(np.asarray(projected, dtype=object)).sum())
    simplified = _simplify(projected, tolerance)
    shapes = []
    for (code, name, _), geom in zip(units, simplified):
        point = geom.representative_point() if not geom.is_empty else shapely.Point(0, 0)
        shapes.append(Shape(code, name, geometry_path(geom), (int(round(point.x)), int(round(point.y)))))
    outline_path = ""
    if outline is not None:
        outline_geom = shapely.transform(outline, projection.array).simplify(tolerance, preserve_topology=True)
        outline_path = geometry_path(outline_geom)
    after = int(shapely.get_num_coordinates(np.asarray(simplified, dtype=object)).sum())
    return BaseMap(width, height, projection, tuple(shapes), outline_path,
                   {"coordinates_before": before, "coordinates_after": after})


@dataclass(frozen=True)
class Point:
    lon: float
    lat: float
    css_class: str


def _points_paths(base: BaseMap, points: Iterable[Point]) -> str:
    """Households as zero-length strokes: one path per status class, a halo under all."""
    by_class: dict[str, list[str]] = {}
    halo: list[str] = []
    for point in points:
        if point.lon is None or point.lat is None or not (math.isfinite(point.lon) and math.isfinite(point.lat)):
            continue
        x, y = base.projection.xy(point.lon, point.lat)
        if not (0 <= x <= base.width and 0 <= y <= base.height):
            continue
        move = f"M{round(x)} {round(y)}h0"
        halo.append(move)
        by_class.setdefault(point.css_class, []).append(move)
    if not halo:
        return ""
    out = [f'<g class="pts"><path class="halo" d="{"".join(halo)}"/>']
    for css_class in sorted(by_class):
        out.append(f'<path class="{css_class}" d="{"".join(by_class[css_class])}"/>')
    out.append("</g>")
    return "".join(out)


def render_map(
    base: BaseMap,
    *,
    classes: Mapping[str, str],
    titles: Mapping[str, str] | None = None,
    links: Mapping[str, str] | None = None,
    selected: str | None = None,
    points: Iterable[Point] = (),
    label: str = "",
    only: set[str] | None = None,
    element_id: str = "map",
    overlay: str = "",
) -> str:
    """The map as an ``<svg>`` element: communes filled by class, optional links and points.

    ``only`` limits the drawn communes to those codes and zooms to them;
    ``overlay`` (see :func:`overlay_svg`) is drawn over the communes, under the points.
    """
    titles = titles or {}
    links = links or {}
    shapes = [s for s in base.shapes if only is None or s.code in only]
    view = f"0 0 {base.width} {base.height}"
    if only is not None and shapes:
        view = _zoomed_view(base, shapes)
    parts = [
        f'<svg id="{escape(element_id)}" class="map" xmlns="http://www.w3.org/2000/svg" viewBox="{view}" '
        f'role="img" aria-label="{escape(label)}">'
    ]
    if base.outline and only is None:
        parts.append(f'<path class="outline" d="{base.outline}"/>')
    for shape in shapes:
        css = classes.get(shape.code, NO_PLAN[0])
        if shape.code == selected:
            css += " sel"
        title = f"<title>{escape(titles[shape.code])}</title>" if shape.code in titles else ""
        body = f'<path class="{css}" data-code="{escape(shape.code)}" d="{shape.path}">{title}</path>'
        href = links.get(shape.code)
        if href:
            body = f'<a href="{escape(href)}">{body}</a>'
        parts.append(body)
    if selected and (shape := base.shape(selected)) is not None and (only is None or selected in only):
        parts.append(f'<path class="selo" d="{shape.path}"/>')
    parts.append(overlay)
    parts.append(_points_paths(base, points))
    parts.append("</svg>")
    return "".join(parts)


def overlay_svg(shapes: Iterable[Shape]) -> str:
    """Outlines and names of larger units (districts) to draw over the communes; never links."""
    shapes = list(shapes)
    if not shapes:
        return ""
    lines = "".join(f'<path d="{s.path}"/>' for s in shapes)
    names = "".join(f'<text x="{s.centre[0]}" y="{s.centre[1]}">{escape(s.name)}</text>' for s in shapes)
    return f'<g class="over">{lines}</g><g class="overname" aria-hidden="true">{names}</g>'


def _zoomed_view(base: BaseMap, shapes: Sequence[Shape]) -> str:
    """A viewBox around some shapes (from their path data), with a margin."""
    xs: list[int] = []
    ys: list[int] = []
    for shape in shapes:
        for ring in shape.path.split("M")[1:]:
            head, _, rest = ring.partition("l")
            x, y = (int(v) for v in head.rstrip("z").split())
            xs.append(x)
            ys.append(y)
            numbers = [int(n) for n in rest.rstrip("z").replace("-", " -").split()] if rest else []
            for dx, dy in zip(numbers[0::2], numbers[1::2]):
                x += dx
                y += dy
                xs.append(x)
                ys.append(y)
    if not xs:
        return f"0 0 {base.width} {base.height}"
    pad = max(max(xs) - min(xs), max(ys) - min(ys)) * 0.08 + 4
    x0, y0 = min(xs) - pad, min(ys) - pad
    return f"{x0:.0f} {y0:.0f} {max(xs) - min(xs) + 2 * pad:.0f} {max(ys) - min(ys) + 2 * pad:.0f}"


def stylesheet_rules() -> str:
    """The CSS rules for the colour classes (kept next to the scale they describe)."""
    rules = [f".map .{name},.sw.{name}{{fill:{colour};background:{colour}}}" for name, _, _, colour in PERCENT_BINS]
    rules.append(f".map .{NO_PLAN[0]},.sw.{NO_PLAN[0]}{{fill:{NO_PLAN[1]};background:{NO_PLAN[1]}}}")
    rules += [f".map .pts .{name}{{stroke:{colour}}}.sw.{name}{{background:{colour}}}" for name, colour in STATUS_COLOURS.items()]
    return "\n".join(rules)
