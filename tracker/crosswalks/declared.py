"""Declared commune codes belong to a map.

An officer declares a commune by the code of the map in force when the
record was made: an old code after the merger still means the old commune.
Under a set that does not know the code, it is read through the stored
crosswalk with the set that does: the new unit holding most of the old
commune is the declaration (the tie-break and the fallback), and a point in
any new unit the old commune went into is no mismatch. An old code is
therefore judged against the old map under the old set, and against what it
became under the new one.

Only stored crosswalks are used (never computed here: assignment runs on
every push); ``crosswalks compute`` or the first use of a crosswalk stores one.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from threading import Lock

from sqlalchemy import select

from tracker.boundaries.models import AdminUnit, BoundarySet
from tracker.crosswalks.models import Crosswalk, CrosswalkLink
from tracker.extensions import db
from tracker.geo.results import FLAG_MISMATCH, Assignment

_CACHE: dict[tuple[str, int, tuple[int, ...]], dict[str, tuple[str, ...]]] = {}
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


def translations(boundary_set: BoundarySet) -> dict[str, tuple[str, ...]]:
    """Codes of other maps unknown to ``boundary_set`` → its communes they lie in, the largest part first."""
    crosswalks = _current_crosswalks(boundary_set)
    key = (str(db.engine.url), boundary_set.id, tuple(sorted(c.id for c in crosswalks)))
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    parts: dict[str, list[tuple[float, str]]] = {}
    for crosswalk in crosswalks:
        forward = crosswalk.to_set_id == boundary_set.id
        for old, new, share, area in db.session.execute(
            select(CrosswalkLink.old_code, CrosswalkLink.new_code, CrosswalkLink.share, CrosswalkLink.area_km2)
            .where(CrosswalkLink.crosswalk_id == crosswalk.id)
        ):
            # Old → new: the old commune's shares; new → old (read backwards): the areas of its pieces.
            other, own, weight = (old, new, share) if forward else (new, old, area)
            parts.setdefault(other, []).append((weight, own))
    own_codes = set(db.session.scalars(select(AdminUnit.code).where(
        AdminUnit.boundary_set_id == boundary_set.id, AdminUnit.level == "commune")))
    table = {code: tuple(own for _, own in sorted(found, key=lambda p: (-p[0], p[1])))
             for code, found in parts.items() if code not in own_codes}
    with _LOCK:
        if len(_CACHE) > 16:
            _CACHE.clear()
        _CACHE[key] = table
    return table


def read_declared(
    boundary_set: BoundarySet, declared: Sequence[str | None]
) -> tuple[list[str | None], dict[str, tuple[str, ...]]]:
    """The declarations as this set's codes, and the translation table used."""
    table = translations(boundary_set)
    if not table:
        return list(declared), table
    return [table[d][0] if d in table else d for d in declared], table


def judged(
    results: list[Assignment], declared: Sequence[str | None], table: dict[str, tuple[str, ...]]
) -> list[Assignment]:
    """No mismatch for a point in any unit its old commune went into."""
    if not table:
        return results
    out = []
    for result, code in zip(results, declared):
        if code in table and FLAG_MISMATCH in result.flags and result.commune in table[code]:
            result = replace(result, flags=tuple(f for f in result.flags if f != FLAG_MISMATCH))
        out.append(result)
    return out
