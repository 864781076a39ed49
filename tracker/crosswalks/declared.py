"""Declared commune codes belong to a map.

An officer declares a commune by a code of one map: the map the client
names (``declared_set``), else the map in force on the record's capture
date. Under another set the code is read through the stored crosswalk
between the two maps: the unit holding most of the declared commune is the
declaration (the tie-break and the fallback), and a point in any unit the
declared commune overlaps is no mismatch. An old code is therefore judged
against the old map under the old set, and against what it became under the
new one, even where the same code lives on as a new commune.

A code its own map does not know (or a record whose map has no crosswalk to
the set) keeps the former reading: under a set that does not know the code,
it is read through any crosswalk with a set that does.

Only stored crosswalks are used (never computed here: assignment runs on
every push); ``crosswalks compute`` or the first use of a crosswalk stores one.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from threading import Lock

from sqlalchemy import select

from tracker.boundaries.models import AdminUnit, BoundarySet
from tracker.crosswalks.models import Crosswalk, CrosswalkLink
from tracker.extensions import db
from tracker.geo.results import FLAG_MISMATCH, Assignment

Reading = tuple[str, ...]  # the set's units a declared code went into, the largest part first


@dataclass(frozen=True)
class Tables:
    """How ``boundary_set`` reads the codes of other maps."""

    by_map: dict[int, dict[str, Reading]]  # other set id → its code → readings (every code its crosswalk links)
    fallback: dict[str, Reading]  # codes unknown to the set, through any crosswalk
    own: frozenset[str]  # the set's own commune codes

    def reading(self, code: str | None, declared_map: int | None, set_id: int) -> Reading | None:
        """The set's units ``code`` means, or None when it is read as one of the set's own codes."""
        if code is None:
            return None
        if declared_map is not None and declared_map != set_id:
            found = self.by_map.get(declared_map, {}).get(code)
            if found is not None:
                return found
        return self.fallback.get(code) if code not in self.own else None


_CACHE: dict[tuple[str, int, tuple[int, ...]], Tables] = {}
_LOCK = Lock()


def _current_crosswalks(boundary_set: BoundarySet) -> list[Crosswalk]:
    """The current crosswalks between ``boundary_set`` and any other set, in either direction."""
    sets = {s.id: s for s in db.session.scalars(select(BoundarySet))}
    rows = db.session.scalars(
        select(Crosswalk).where((Crosswalk.from_set_id == boundary_set.id) | (Crosswalk.to_set_id == boundary_set.id))
        .order_by(Crosswalk.id.desc())
    )
    current: dict[tuple[int, int], Crosswalk] = {}
    for row in rows:
        if (row.from_version, row.to_version) == (sets[row.from_set_id].version, sets[row.to_set_id].version):
            current.setdefault((row.from_set_id, row.to_set_id), row)
    return list(current.values())


def _ordered(parts: dict[str, list[tuple[float, str]]]) -> dict[str, Reading]:
    return {code: tuple(dict.fromkeys(own for _, own in sorted(found, key=lambda p: (-p[0], p[1]))))
            for code, found in parts.items()}


def tables(boundary_set: BoundarySet) -> Tables:
    """The set's reading of other maps' codes (cached per set and crosswalks)."""
    crosswalks = _current_crosswalks(boundary_set)
    key = (str(db.engine.url), boundary_set.id, tuple(sorted(c.id for c in crosswalks)))
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    by_map: dict[int, dict[str, list[tuple[float, str]]]] = {}
    every: dict[str, list[tuple[float, str]]] = {}
    for crosswalk in crosswalks:
        forward = crosswalk.to_set_id == boundary_set.id
        other_set = crosswalk.from_set_id if forward else crosswalk.to_set_id
        parts = by_map.setdefault(other_set, {})
        for old, new, share, area in db.session.execute(
            select(CrosswalkLink.old_code, CrosswalkLink.new_code, CrosswalkLink.share, CrosswalkLink.area_km2)
            .where(CrosswalkLink.crosswalk_id == crosswalk.id)
        ):
            # Old → new: the old commune's shares; new → old (read backwards): the areas of its pieces.
            other, own, weight = (old, new, share) if forward else (new, old, area)
            parts.setdefault(other, []).append((weight, own))
            every.setdefault(other, []).append((weight, own))
    own_codes = frozenset(db.session.scalars(select(AdminUnit.code).where(
        AdminUnit.boundary_set_id == boundary_set.id, AdminUnit.level == "commune")))
    found = Tables({set_id: _ordered(parts) for set_id, parts in by_map.items()},
                   {code: reading for code, reading in _ordered(every).items() if code not in own_codes}, own_codes)
    with _LOCK:
        if len(_CACHE) > 16:
            _CACHE.clear()
        _CACHE[key] = found
    return found


def read_declared(
    boundary_set: BoundarySet, declared: Sequence[str | None], maps: Sequence[int | None] | None = None
) -> tuple[list[str | None], list[Reading | None]]:
    """The declarations as this set's codes, and each one's reading (None: one of the set's own codes).

    ``maps`` holds the id of the set each declaration belongs to (None: unknown).
    """
    table = tables(boundary_set)
    maps = [None] * len(declared) if maps is None else maps
    if not table.by_map and not table.fallback:
        return list(declared), [None] * len(declared)
    readings = [table.reading(code, m, boundary_set.id) for code, m in zip(declared, maps)]
    return [r[0] if r else code for code, r in zip(declared, readings)], readings


def judged(results: list[Assignment], readings: Sequence[Reading | None]) -> list[Assignment]:
    """No mismatch for a point in any unit the declared commune went into."""
    out = []
    for result, reading in zip(results, readings):
        if reading and FLAG_MISMATCH in result.flags and result.commune in reading:
            result = replace(result, flags=tuple(f for f in result.flags if f != FLAG_MISMATCH))
        out.append(result)
    return out
