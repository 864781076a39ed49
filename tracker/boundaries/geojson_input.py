"""Reading boundary GeoJSON into validated units, before anything is written.

Pure: no Flask, no database. Every problem names the feature it came from;
invalid rings are repaired with ``make_valid`` and reported, not rejected.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon, shape

from tracker.text import fold, nfc

_GEOD = Geod(ellps="WGS84")


class BoundaryFileError(ValueError):
    """A boundary file that cannot be imported; ``problems`` lists why."""

    def __init__(self, path: str, problems: list[str]) -> None:
        super().__init__(f"{path}: " + "; ".join(problems[:20]))
        self.path = path
        self.problems = problems


@dataclass
class UnitRecord:
    level: str
    code: str
    name: str
    name_ascii: str
    unit_type: str
    parent_code: str | None
    geometry: MultiPolygon
    area_km2: float
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class ParsedFile:
    units: list[UnitRecord]
    repaired: list[str]


def _feature_label(index: int, props: dict[str, Any]) -> str:
    code = props.get("code")
    return f"feature {index}" + (f" (code {code})" if code not in (None, "") else "")


def _polygonal(geom: Any) -> MultiPolygon | None:
    """The polygonal part of a geometry as a MultiPolygon, or None if empty."""
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, (Polygon, MultiPolygon))]
    polys: list[Polygon] = []
    for part in parts:
        polys.extend(part.geoms if isinstance(part, MultiPolygon) else [part])
    return MultiPolygon(polys) if polys else None


def geodesic_area_km2(geom: MultiPolygon) -> float:
    area, _ = _GEOD.geometry_area_perimeter(geom)
    return abs(area) / 1e6


def load_collection(path: Path) -> list[dict[str, Any]]:
    """The features of a FeatureCollection file, or a BoundaryFileError."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise BoundaryFileError(str(path), ["file not found"]) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BoundaryFileError(str(path), [f"not GeoJSON: {exc}"]) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise BoundaryFileError(str(path), ["not a GeoJSON FeatureCollection"])
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise BoundaryFileError(str(path), ["the FeatureCollection has no features"])
    return features


def _parse_geometry(raw: Any, label: str, problems: list[str], repaired: list[str]) -> MultiPolygon | None:
    if not isinstance(raw, dict) or raw.get("type") not in ("Polygon", "MultiPolygon"):
        kind = raw.get("type") if isinstance(raw, dict) else type(raw).__name__
        problems.append(f"{label}: geometry is {kind}, expected Polygon or MultiPolygon")
        return None
    try:
        geom = shape(raw)
    except Exception as exc:  # shapely raises several types for broken coordinates
        problems.append(f"{label}: unreadable geometry ({exc})")
        return None
    if geom.is_empty:
        problems.append(f"{label}: empty geometry")
        return None
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        geom = shapely.make_valid(geom)
        repaired.append(f"{label}: invalid geometry repaired ({reason})")
    polygonal = _polygonal(geom)
    if polygonal is None or polygonal.is_empty:
        problems.append(f"{label}: no polygon left after repair")
    return polygonal


def parse_units(path: Path, level: str, parent_key: str | None) -> ParsedFile:
    """Validate every feature of one file; raise with all problems at once."""
    features = load_collection(path)
    problems: list[str] = []
    repaired: list[str] = []
    units: list[UnitRecord] = []
    seen: dict[str, int] = {}
    for index, feature in enumerate(features):
        props = (feature or {}).get("properties") or {} if isinstance(feature, dict) else {}
        label = _feature_label(index, props)
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(f"{label}: not a GeoJSON Feature")
            continue
        code = props.get("code")
        if code in (None, "") or not isinstance(code, (str, int)):
            problems.append(f"{label}: missing 'code' property")
            continue
        code = str(code).strip()
        if code in seen:
            problems.append(f"{label}: code {code} repeats feature {seen[code]}")
            continue
        seen[code] = index
        name = props.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{label}: missing 'name' property")
            continue
        geom = _parse_geometry(feature.get("geometry"), label, problems, repaired)
        if geom is None:
            continue
        parent = props.get(parent_key) if parent_key else None
        name = nfc(name.strip())
        units.append(
            UnitRecord(
                level=level,
                code=code,
                name=name,
                name_ascii=str(props.get("name_ascii") or fold(name).title()),
                unit_type=str(props.get("type") or ""),
                parent_code=str(parent) if parent not in (None, "") else None,
                geometry=geom,
                area_km2=geodesic_area_km2(geom),
                properties={k: v for k, v in props.items() if isinstance(v, (str, int, float, bool))},
            )
        )
    if problems:
        raise BoundaryFileError(str(path), problems)
    return ParsedFile(units, repaired)
