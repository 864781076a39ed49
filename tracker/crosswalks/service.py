"""Computing, loading and reading stored crosswalks.

The geometry work is :mod:`tracker.geo.crosswalk`; this module feeds it the
sets' units, checks the result against the households assigned under both
sets, and stores it with the two sets' versions. A crosswalk made for older
versions of either set is stale, and :func:`current_crosswalk` makes a new one.
"""
from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from tracker.boundaries.models import AdminUnit, BoundarySet
from tracker.boundaries.service import unit_shapes
from tracker.crosswalks.models import Crosswalk, CrosswalkLink
from tracker.exports.tables import TableError, read_table
from tracker.extensions import db
from tracker.geo import crosswalk as core
from tracker.geo.crosswalk import CrosswalkError
from tracker.households.models import HouseholdRevision, RevisionAssignment

__all__ = ["CrosswalkError", "compute_crosswalk", "current_crosswalk", "import_official", "link_rows",
           "read_official", "read_official_upload"]

OFFICIAL_COLUMNS = ("old_code", "new_code", "share")
OFFICIAL_INFORMATIONAL = ("old_name", "new_name", "note")


def household_pairs(from_set: BoundarySet, to_set: BoundarySet) -> dict[tuple[str, str], int]:
    """Current household revisions per (commune under ``from_set``, commune under ``to_set``)."""
    old, new = aliased(RevisionAssignment), aliased(RevisionAssignment)
    query = (
        select(old.commune_code, new.commune_code, func.count())
        .select_from(old)
        .join(new, (new.revision_id == old.revision_id) & (new.boundary_set_id == to_set.id))
        .join(HouseholdRevision, HouseholdRevision.id == old.revision_id)
        .where(old.boundary_set_id == from_set.id, HouseholdRevision.superseded_at.is_(None),
               old.commune_code.is_not(None), new.commune_code.is_not(None))
        .group_by(old.commune_code, new.commune_code)
    )
    return {(a, b): int(n) for a, b, n in db.session.execute(query)}


def _store(
    from_set: BoundarySet, to_set: BoundarySet, result: core.Crosswalk, *, tolerance: float, source: str,
    source_name: str,
) -> Crosswalk:
    pairs = household_pairs(from_set, to_set)
    check = core.check_households(result, pairs)
    row = Crosswalk(
        from_set_id=from_set.id, to_set_id=to_set.id, from_version=from_set.version, to_version=to_set.version,
        tolerance=tolerance, source=source, source_name=source_name[:300], slivers=result.slivers,
        unmatched=" ".join(result.unmatched)[:4000], households=check.households,
        households_agreeing=check.agreeing,
    )
    db.session.add(row)
    db.session.flush()
    db.session.execute(CrosswalkLink.__table__.insert(), [
        {"crosswalk_id": row.id, "old_code": link.old, "new_code": link.new, "share": link.share,
         "area_km2": round(link.area_km2, 4), "households": pairs.get((link.old, link.new), 0),
         "source": link.source}
        for link in result.links
    ])
    return row


def _geometry(from_set: BoundarySet, to_set: BoundarySet, tolerance: float) -> core.Crosswalk:
    if from_set.id == to_set.id:
        raise CrosswalkError([f"a crosswalk needs two different boundary sets (got {from_set.name} twice)"])
    old = [(code, geom) for code, _, geom in unit_shapes(from_set)]
    new = [(code, geom) for code, _, geom in unit_shapes(to_set)]
    if not old or not new:
        raise CrosswalkError([f"boundary set {s.name} has no communes" for s in (from_set, to_set) if not
                              (old if s is from_set else new)])
    result = core.compute(old, new, tolerance)
    old_province, new_province = provinces_of(from_set), provinces_of(to_set)
    if old_province and new_province:
        result = core.within_parents(result, old_province, new_province)
    if not result.links:
        raise CrosswalkError([f"boundary sets {from_set.name} and {to_set.name} do not overlap: "
                              f"no commune of {from_set.name} lies in a commune of {to_set.name}"])
    return result


def provinces_of(boundary_set: BoundarySet) -> dict[str, str]:
    """Each commune's province (through its district when it has one); empty when a commune has none."""
    parent = dict(db.session.execute(select(AdminUnit.code, AdminUnit.parent_code).where(
        AdminUnit.boundary_set_id == boundary_set.id, AdminUnit.level != "province")).all())
    provinces = set(db.session.scalars(select(AdminUnit.code).where(
        AdminUnit.boundary_set_id == boundary_set.id, AdminUnit.level == "province")))
    out: dict[str, str] = {}
    for code in db.session.scalars(select(AdminUnit.code).where(
            AdminUnit.boundary_set_id == boundary_set.id, AdminUnit.level == "commune")):
        up = parent.get(code)
        while up is not None and up not in provinces:
            up = parent.get(up)
        if up is None:
            return {}
        out[code] = up
    return out


def compute_crosswalk(
    from_set: BoundarySet, to_set: BoundarySet, tolerance: float = core.DEFAULT_TOLERANCE
) -> Crosswalk:
    """Compute and store the crosswalk from the geometry; the caller commits.

    When an official list was loaded for the same set versions, it is kept
    over the geometry for the old units it names.
    """
    result = _geometry(from_set, to_set, tolerance)
    previous = current_crosswalk(from_set, to_set, compute=False)
    official = [core.Link(link.old_code, link.new_code, link.share, link.area_km2, "official")
                for link in (previous.links if previous else []) if link.source == "official"]
    if official:
        result = core.merge_official(result, official)
        return _store(from_set, to_set, result, tolerance=tolerance, source="official",
                      source_name=previous.source_name if previous else "")
    return _store(from_set, to_set, result, tolerance=tolerance, source="geometry", source_name="")


def current_crosswalk(from_set: BoundarySet, to_set: BoundarySet, *, compute: bool = True) -> Crosswalk | None:
    """The newest crosswalk made for the sets' current versions (computed and stored when there is none)."""
    row = db.session.scalar(
        select(Crosswalk)
        .where(Crosswalk.from_set_id == from_set.id, Crosswalk.to_set_id == to_set.id,
               Crosswalk.from_version == from_set.version, Crosswalk.to_version == to_set.version)
        .order_by(Crosswalk.id.desc()).limit(1)
    )
    if row is None and compute:
        row = compute_crosswalk(from_set, to_set)
    return row


def crosswalk_history(from_set: BoundarySet, to_set: BoundarySet) -> list[Crosswalk]:
    return list(db.session.scalars(
        select(Crosswalk).where(Crosswalk.from_set_id == from_set.id, Crosswalk.to_set_id == to_set.id)
        .order_by(Crosswalk.id.desc())
    ))


def _commune_codes(boundary_set: BoundarySet) -> set[str]:
    return set(db.session.scalars(select(AdminUnit.code).where(
        AdminUnit.boundary_set_id == boundary_set.id, AdminUnit.level == "commune")))


def read_official(path: Path) -> list[dict[str, Any]]:
    """The rows of an official list file (CSV or XLSX), TableError when its shape is wrong."""
    rows: list[dict[str, Any]] = []
    for number, row in read_table(path, allowed=("csv", "xlsx")):
        if not rows:
            missing = [c for c in ("old_code", "new_code") if c not in row]
            unknown = [c for c in row if c not in OFFICIAL_COLUMNS + OFFICIAL_INFORMATIONAL and c != "__extra__"]
            if missing or unknown:
                raise TableError(f"{path.name}: " + "; ".join(
                    ([f"missing column(s) {', '.join(missing)}"] if missing else [])
                    + ([f"unknown column(s) {', '.join(unknown)}"] if unknown else [])
                ) + f" (expected {', '.join(OFFICIAL_COLUMNS)})")
        if "__extra__" in row:
            raise TableError(f"{path.name}: row {number} has values beyond the last named column")
        rows.append(row)
    if not rows:
        raise TableError(f"{path.name}: no rows")
    return rows


def read_official_upload(data: bytes, filename: str) -> list[dict[str, Any]]:
    """:func:`read_official` for an uploaded file (CSV or XLSX by its name), TableError when its shape is wrong."""
    name = Path(filename).name or "official.csv"
    with tempfile.TemporaryDirectory(prefix="crosswalk-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        return read_official(path)


def import_official(
    from_set: BoundarySet, to_set: BoundarySet, rows: Sequence[dict[str, Any]], source_name: str = "",
    tolerance: float = core.DEFAULT_TOLERANCE,
) -> Crosswalk:
    """Store a crosswalk in which the official list wins; CrosswalkError names every bad row. The caller commits."""
    official = core.check_official(rows, _commune_codes(from_set), _commune_codes(to_set))
    result = core.merge_official(_geometry(from_set, to_set, tolerance), official)
    return _store(from_set, to_set, result, tolerance=tolerance, source="official", source_name=source_name)


# --- reading -------------------------------------------------------------------


@dataclass(frozen=True)
class LinkRow:
    old_code: str
    old_name: str
    old_parent: str | None
    new_code: str
    new_name: str
    share: float
    area_km2: float
    households: int
    source: str

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.new_code, self.new_name, self.old_code, self.old_name, self.old_parent, self.share,
                self.area_km2, self.households, self.source)


def _names(boundary_set_id: int) -> dict[str, tuple[str, str | None]]:
    rows = db.session.execute(select(AdminUnit.code, AdminUnit.name, AdminUnit.parent_code).where(
        AdminUnit.boundary_set_id == boundary_set_id, AdminUnit.level == "commune"))
    return {code: (name, parent) for code, name, parent in rows}


def link_rows(crosswalk: Crosswalk, scope: frozenset[str] | None = None) -> list[LinkRow]:
    """The links with both units' names, ordered by new unit then old unit (only those touching ``scope``)."""
    old, new = _names(crosswalk.from_set_id), _names(crosswalk.to_set_id)
    rows = [
        LinkRow(link.old_code, old.get(link.old_code, ("", None))[0], old.get(link.old_code, ("", None))[1],
                link.new_code, new.get(link.new_code, ("", None))[0], link.share, link.area_km2, link.households,
                link.source)
        for link in crosswalk.links
        if scope is None or link.old_code in scope or link.new_code in scope
    ]
    rows.sort(key=lambda r: (r.new_code, r.old_code))
    return rows


def as_core(crosswalk: Crosswalk) -> core.Crosswalk:
    """The stored crosswalk as the pure core's value."""
    links = [core.Link(link.old_code, link.new_code, link.share, link.area_km2, link.source)
             for link in crosswalk.links]
    return core.Crosswalk(links, crosswalk.unmatched.split(), crosswalk.slivers)
