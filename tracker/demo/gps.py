"""Where the demo's households stand: a GPS fix near a village of their commune, a few spoilt as phones spoil them."""
from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from tracker.demo import calendar

if TYPE_CHECKING:
    from tracker.demo.generate import DemoCommune

METRES_PER_DEGREE = 111_320.0
GPS_MISTAKE_SHARE = 0.005
GPS_MISTAKE_KINDS = ("swapped", "zero", "near_boundary")


def place(records: list[dict[str, Any]], slots: list[tuple[str, str]],
           villages: list[tuple[str, Point]], by_code: dict[str, DemoCommune],
           rng: np.random.Generator) -> None:
    """Give every record a GPS fix in its commune, then spoil a few like phones do."""
    for code in dict.fromkeys(code for code, _ in slots):
        indices = [i for i, (c, _) in enumerate(slots) if c == code]
        accuracy = _accuracies(len(indices), rng)
        centres = [villages[i][1] for i in indices]
        points = _points_near(by_code[code].geometry, centres, accuracy, rng)
        for i, (lon, lat), acc in zip(indices, points, accuracy):
            records[i]["location"] = _location(lat, lon, acc, records[i], rng)
    _spoil(records, by_code, rng)


def _accuracies(count: int, rng: np.random.Generator) -> np.ndarray:
    """Mostly 3-25 m under open sky, some 30-80 m under forest or by a cliff."""
    good = np.clip(rng.lognormal(math.log(8.0), 0.5, count), 3.0, 25.0)
    poor = rng.uniform(30.0, 80.0, count)
    return np.round(np.where(rng.random(count) < 0.9, good, poor), 1)


def _points_near(area: BaseGeometry, centres: list[Point], accuracy: np.ndarray,
                 rng: np.random.Generator) -> list[tuple[float, float]]:
    """Houses scattered round their village centre, inside the commune and clear of its edge."""
    shapely.prepare(area)
    edge = area.boundary
    shapely.prepare(edge)
    cx = np.array([p.x for p in centres])
    cy = np.array([p.y for p in centres])
    x, y = cx.copy(), cy.copy()
    todo = np.ones(len(centres), dtype=bool)
    for attempt in range(40):
        spread = 350.0 if attempt < 30 else 100.0
        n = int(todo.sum())
        tx = cx[todo] + rng.normal(0, spread, n) / _metres_per_lon(cy[todo])
        ty = cy[todo] + rng.normal(0, spread, n) / METRES_PER_DEGREE
        ok = _clear_inside(area, edge, tx, ty, accuracy[todo])
        where = np.flatnonzero(todo)[ok]
        x[where], y[where] = tx[ok], ty[ok]
        todo[where] = False
        if not todo.any():
            break
    for i in np.flatnonzero(todo):
        (x[i], y[i]), = uniform_points(area, 1, rng, margin_m=1.5 * accuracy[i] + 5.0)
    return list(zip(np.round(x, 6).tolist(), np.round(y, 6).tolist()))


def _clear_inside(area: BaseGeometry, edge: BaseGeometry, x: np.ndarray, y: np.ndarray,
                  accuracy: np.ndarray) -> np.ndarray:
    """Inside ``area`` and further from its edge than 1.5 accuracy radii (plus 5 m)."""
    inside = shapely.contains_xy(area, x, y)
    gap = np.full(len(x), -1.0)
    if inside.any():
        degrees = shapely.distance(edge, shapely.points(x[inside], y[inside]))
        gap[inside] = degrees * _metres_per_lon(y[inside])
    return inside & (gap > 1.5 * accuracy + 5.0)


def uniform_points(area: BaseGeometry, count: int, rng: np.random.Generator,
                    margin_m: float = 0.0) -> list[Point]:
    """Uniform points inside ``area`` by rejection, ``margin_m`` clear of its edge if possible."""
    shapely.prepare(area)
    minx, miny, maxx, maxy = area.bounds
    found: list[Point] = []
    for attempt in range(200):
        margin = margin_m if attempt < 150 else 0.0
        x = rng.uniform(minx, maxx, 64)
        y = rng.uniform(miny, maxy, 64)
        ok = _clear_inside(area, area.boundary, x, y, np.full(64, (margin - 5.0) / 1.5))
        found += [Point(a, b) for a, b in zip(x[ok], y[ok])]
        if len(found) >= count:
            return found[:count]
    return found + [area.representative_point()] * (count - len(found))


def _metres_per_lon(lat: np.ndarray | float) -> np.ndarray | float:
    """Metres in one degree of longitude; also a safe lower bound for any direction."""
    return METRES_PER_DEGREE * np.cos(np.radians(lat))


def _location(lat: float, lon: float, accuracy: float, record: dict[str, Any],
              rng: np.random.Generator) -> dict[str, Any]:
    """The fix is taken on the first visit to the works (or the latest visit before)."""
    dates = record["status_dates"]
    day = dates.get("started") or max(d for s, d in dates.items() if s != "withdrawn")
    return {"lat": lat, "lon": lon, "accuracy_m": float(accuracy),
            "captured_at": calendar.stamp(date.fromisoformat(day), rng)}


def _spoil(records: list[dict[str, Any]], by_code: dict[str, DemoCommune],
           rng: np.random.Generator) -> None:
    """About 0.5 % bad fixes: swapped lat/lon, (0, 0), and points on a commune border."""
    count = int(round(GPS_MISTAKE_SHARE * len(records)))
    chosen = rng.choice(len(records), size=count, replace=False) if count else []
    for n, index in enumerate(chosen):
        location = records[index]["location"]
        kind = GPS_MISTAKE_KINDS[n % len(GPS_MISTAKE_KINDS)]
        if kind == "swapped":
            location["lat"], location["lon"] = location["lon"], location["lat"]
        elif kind == "zero":
            location["lat"], location["lon"] = 0.0, 0.0
        else:
            commune = by_code[records[index]["declared_commune"]]
            lon, lat, accuracy = _border_fix(commune, by_code, rng)
            location.update(lat=lat, lon=lon, accuracy_m=accuracy)


def _border_fix(commune: DemoCommune, by_code: dict[str, DemoCommune],
                rng: np.random.Generator) -> tuple[float, float, float]:
    """A fix a few metres from a border shared with a neighbour, within its accuracy radius."""
    border = _shared_border(commune, by_code)
    on_line = border.interpolate(rng.random(), normalized=True)
    offset = rng.uniform(3.0, 20.0)
    angle = rng.uniform(0, 2 * math.pi)
    lon = on_line.x + offset * math.cos(angle) / _metres_per_lon(on_line.y)
    lat = on_line.y + offset * math.sin(angle) / METRES_PER_DEGREE
    accuracy = round(float(rng.uniform(max(25.0, offset + 10.0), 60.0)), 1)
    return round(lon, 6), round(lat, 6), accuracy


def _shared_border(commune: DemoCommune, by_code: dict[str, DemoCommune]) -> BaseGeometry:
    """The longest border line with another commune, or the commune's own outline."""
    own = commune.geometry.boundary
    best, best_length = _lines_of(own), 0.0
    for other in by_code.values():
        if other.code == commune.code or not other.geometry.intersects(commune.geometry):
            continue
        shared = _lines_of(own.intersection(other.geometry.boundary))
        if shared.length > best_length:
            best, best_length = shared, shared.length
    return best


def _lines_of(geometry: BaseGeometry) -> BaseGeometry:
    """Only the line parts of an intersection (touching corners give stray points)."""
    parts = shapely.get_parts(shapely.get_parts(geometry))
    lines = [p for p in parts if p.geom_type in ("LineString", "LinearRing")]
    if not lines:
        return shapely.MultiLineString()
    return shapely.line_merge(shapely.MultiLineString(lines))
