"""Importing boundary sets and serving their commune index.

An import is one transaction: it either loads a whole set or changes
nothing. Re-importing identical content is a no-op (checksum match).
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from threading import Lock
from typing import Any

import shapely
from shapely.geometry import MultiPolygon
from sqlalchemy import delete, func, select

from tracker.boundaries.geojson_input import (
    BoundaryFileError,
    UnitRecord,
    geodesic_area_km2,
    parse_units,
)
from tracker.boundaries.models import AdminUnit, BoundarySet
from tracker.dbtypes import utcnow
from tracker.extensions import db
from tracker.geo.assign import CommuneIndex
from tracker.text import fold

__all__ = ["BoundaryFileError", "ImportReport", "commune_index", "import_boundary_set"]


@dataclass
class ImportReport:
    name: str
    status: str  # "created" | "replaced" | "unchanged"
    counts: dict[str, int] = field(default_factory=dict)
    repaired: list[str] = field(default_factory=list)
    derived: list[str] = field(default_factory=list)


def _slug(text: str) -> str:
    return "-".join(fold(text).split())


def _as_multi(geom: object) -> MultiPolygon:
    if isinstance(geom, MultiPolygon):
        return geom
    polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon"]  # type: ignore[arg-type]
    return MultiPolygon(polys)


def _derived(level: str, code: str, name: str, parent: str | None, members: list[UnitRecord]) -> UnitRecord:
    """A unit made by uniting its members, when no file of that level is given."""
    geom = _as_multi(shapely.union_all([m.geometry for m in members]))
    return UnitRecord(level, code, name, fold(name).title(), "", parent, geom, geodesic_area_km2(geom))


def _resolve_districts(communes: list[UnitRecord], districts: list[UnitRecord]) -> list[str]:
    """Point each commune's parent at a district code (the files name them)."""
    by_key: dict[str, str] = {}
    for unit in districts:
        by_key[unit.code] = unit.code
        by_key[fold(unit.name)] = unit.code
    problems = []
    for commune in communes:
        ref = commune.parent_code
        if ref is None:
            continue
        code = by_key.get(ref) or by_key.get(fold(ref))
        if code is None:
            problems.append(f"commune {commune.code}: district '{ref}' is not in the districts file")
        commune.parent_code = code
    return problems


def _province_units(communes: list[UnitRecord], province_path: Path | None) -> tuple[list[UnitRecord], list[str]]:
    if province_path is not None:
        return parse_units(province_path, "province", None).units, []
    groups: dict[str, list[UnitRecord]] = defaultdict(list)
    for commune in communes:
        groups[str(commune.properties.get("province") or "province")].append(commune)
    units = [_derived("province", _slug(name), name, None, members) for name, members in groups.items()]
    return units, [f"province {u.code} derived from its communes" for u in units]


def _district_units(communes: list[UnitRecord], province_of: dict[str, str]) -> list[UnitRecord]:
    groups: dict[tuple[str, str], list[UnitRecord]] = defaultdict(list)
    for commune in communes:
        if commune.parent_code:
            groups[(province_of[commune.code], commune.parent_code)].append(commune)
    units = []
    for (province, name), members in groups.items():
        code = f"{province}:{_slug(name)}"
        units.append(_derived("district", code, name, province, members))
        for member in members:
            member.parent_code = code
    return units


def read_boundary_files(
    communes_path: Path, districts_path: Path | None = None, province_path: Path | None = None
) -> tuple[list[UnitRecord], list[str], list[str]]:
    """All units of a set, parents linked; raises BoundaryFileError on any problem."""
    parsed = parse_units(communes_path, "commune", "district")
    communes, repaired = parsed.units, list(parsed.repaired)
    provinces, derived = _province_units(communes, province_path)
    province_of = _province_of(communes, provinces)
    if districts_path is not None:
        district_file = parse_units(districts_path, "district", None)
        districts, repaired = district_file.units, repaired + district_file.repaired
        problems = _resolve_districts(communes, districts)
        if problems:
            raise BoundaryFileError(str(communes_path), problems)
        for district in districts:
            district.parent_code = provinces[0].code if len(provinces) == 1 else None
    else:
        districts = _district_units(communes, province_of)
        derived += [f"district {d.code} derived from its communes" for d in districts]
    for commune in communes:
        if commune.parent_code is None:
            commune.parent_code = province_of[commune.code]
    return provinces + districts + communes, repaired, derived


def _province_of(communes: list[UnitRecord], provinces: list[UnitRecord]) -> dict[str, str]:
    if len(provinces) == 1:
        return {c.code: provinces[0].code for c in communes}
    return {c.code: _slug(str(c.properties.get("province") or "province")) for c in communes}


def _checksum(units: list[UnitRecord]) -> str:
    digest = hashlib.sha256()
    for unit in sorted(units, key=lambda u: (u.level, u.code)):
        digest.update(f"{unit.level}|{unit.code}|{unit.name}|{unit.unit_type}|{unit.parent_code}|".encode())
        digest.update(shapely.to_wkb(unit.geometry, hex=False))
    return digest.hexdigest()


def import_boundary_set(
    name: str,
    communes_path: Path,
    districts_path: Path | None = None,
    province_path: Path | None = None,
    *,
    description: str = "",
    synthetic: bool = False,
    in_force_from: date | None = None,
) -> ImportReport:
    """Load (or replace) boundary set ``name``; the caller commits.

    ``in_force_from``, when given, is the day the map came into force (kept
    when not given); reports default to the map in force on their date.
    """
    units, repaired, derived = read_boundary_files(communes_path, districts_path, province_path)
    counts = {level: sum(1 for u in units if u.level == level) for level in ("province", "district", "commune")}
    checksum = _checksum(units)
    existing = db.session.scalar(select(BoundarySet).where(BoundarySet.name == name))
    if existing is not None and in_force_from is not None:
        existing.in_force_from = in_force_from
    if existing is not None and existing.checksum == checksum:
        return ImportReport(name, "unchanged", counts, repaired, derived)
    if existing is None:
        boundary_set = BoundarySet(name=name, description=description, synthetic=synthetic, checksum=checksum,
                                   in_force_from=in_force_from)
        db.session.add(boundary_set)
        status = "created"
    else:
        boundary_set = existing
        db.session.execute(delete(AdminUnit).where(AdminUnit.boundary_set_id == existing.id))
        boundary_set.checksum, boundary_set.version = checksum, existing.version + 1
        boundary_set.description = description or existing.description
        boundary_set.synthetic = synthetic
        boundary_set.updated_at = utcnow()
        status = "replaced"
    db.session.flush()
    _insert_units(boundary_set.id, units)
    from tracker.boundaries.outlines import prepare_outlines  # it reads the units through this module
    from tracker.progress import kept
    from tracker.web.maps import prepare_base_maps

    prepare_outlines(boundary_set)
    prepare_base_maps(boundary_set)
    if status == "created":
        kept.start(boundary_set)
    return ImportReport(name, status, counts, repaired, derived)


def _insert_units(set_id: int, units: list[UnitRecord]) -> None:
    wkbs = shapely.to_wkb([u.geometry for u in units])
    db.session.execute(
        AdminUnit.__table__.insert(),
        [
            {
                "boundary_set_id": set_id,
                "level": u.level,
                "code": u.code,
                "name": u.name,
                "name_ascii": u.name_ascii,
                "unit_type": u.unit_type,
                "parent_code": u.parent_code,
                "geometry_wkb": wkb,
                "area_km2": round(u.area_km2, 4),
            }
            for u, wkb in zip(units, wkbs)
        ],
    )


def geometry_key(boundary_set: BoundarySet) -> tuple[str, int, int, str]:
    """What identifies a set's geometry in a per-process cache: database, set, version, content."""
    return (str(db.engine.url), boundary_set.id, boundary_set.version, boundary_set.checksum)


def unit_shapes(boundary_set: BoundarySet, level: str = "commune") -> list[tuple[str, str, Any]]:
    """``(code, name, Shapely geometry)`` of a set's units of one level, by code."""
    rows = db.session.execute(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.geometry_wkb)
        .where(AdminUnit.boundary_set_id == boundary_set.id, AdminUnit.level == level)
        .order_by(AdminUnit.code)
    ).all()
    geoms = shapely.from_wkb([r.geometry_wkb for r in rows]) if rows else []
    return [(r.code, r.name, g) for r, g in zip(rows, geoms)]


_INDEX_CACHE: dict[tuple[str, int, int, str], CommuneIndex] = {}
_INDEX_LOCK = Lock()


def commune_index(boundary_set: BoundarySet) -> CommuneIndex:
    """The set's commune index, built once per process and set version."""
    key = geometry_key(boundary_set)
    with _INDEX_LOCK:
        index = _INDEX_CACHE.get(key)
        if index is None:
            shapes = unit_shapes(boundary_set)
            index = CommuneIndex([code for code, _, _ in shapes], [g for _, _, g in shapes])
            _INDEX_CACHE[key] = index
        return index


def boundary_sets() -> list[BoundarySet]:
    return list(db.session.scalars(select(BoundarySet).order_by(BoundarySet.name)))


def get_set(name: str) -> BoundarySet | None:
    return db.session.scalar(select(BoundarySet).where(BoundarySet.name == name))


def unit_counts(set_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(AdminUnit.level, func.count()).where(AdminUnit.boundary_set_id == set_id).group_by(AdminUnit.level)
    ).all()
    return {level: count for level, count in rows}


def units(set_id: int, level: str | None = None) -> list[AdminUnit]:
    query = select(AdminUnit).where(AdminUnit.boundary_set_id == set_id)
    if level:
        query = query.where(AdminUnit.level == level)
    return list(db.session.scalars(query.order_by(AdminUnit.level, AdminUnit.code)))
