"""Crosswalks between two boundary sets, and carrying figures across them.

Pure: Shapely and the standard library only, no Flask, no database.

A crosswalk says, for every unit of the old map, which units of the new map
it went into and with what share of its area. Areas are measured on the
unit's own latitude (degrees scaled by the cosine of the latitude), which is
exact enough for shares of one commune and for the km² shown beside them.
Pieces below ``tolerance`` of the old unit's area are slivers: two surveys
of one border never agree exactly, so they are dropped and the remaining
shares scaled back to one.

An official list (old code → new code, with shares where a commune was
split) is checked by :func:`check_official` and wins over the geometry for
the old units it names.

:func:`carry` apportions per-unit whole numbers (houses, VND) from the old
units to the new ones by weights (households, or area), with the largest
remainder method inside each old unit, so every old unit's figures, and so
any total over whole old units, are preserved exactly.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import shapely

DEFAULT_TOLERANCE = 0.05
SHARE_SLACK = 0.001  # how far an official list's shares of one old unit may be from summing to one
KM2_PER_SQUARE_DEGREE = 111.32 * 110.57


@dataclass(frozen=True)
class Link:
    """Part of old unit ``old`` that lies in new unit ``new``."""

    old: str
    new: str
    share: float
    area_km2: float
    source: str = "geometry"  # or "official"


@dataclass
class Crosswalk:
    links: list[Link]
    unmatched: list[str] = field(default_factory=list)  # old units overlapping no new unit
    slivers: int = 0  # pieces dropped below the tolerance

    def by_old(self) -> dict[str, list[Link]]:
        out: dict[str, list[Link]] = defaultdict(list)
        for link in self.links:
            out[link.old].append(link)
        return dict(out)


class CrosswalkError(ValueError):
    """A crosswalk or a carry that cannot be made; ``problems`` names each reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems[:20]))
        self.problems = problems


def _local_area_km2(geoms: np.ndarray) -> np.ndarray:
    """Approximate areas in km²: square degrees scaled at each geometry's own latitude."""
    if len(geoms) == 0:
        return np.zeros(0)
    lat = shapely.get_y(shapely.centroid(geoms))
    return shapely.area(geoms) * KM2_PER_SQUARE_DEGREE * np.cos(np.radians(np.nan_to_num(lat)))


def compute(
    old: Sequence[tuple[str, Any]], new: Sequence[tuple[str, Any]], tolerance: float = DEFAULT_TOLERANCE
) -> Crosswalk:
    """The crosswalk from ``old`` to ``new`` units (``(code, geometry)`` pairs) by shares of area."""
    old_codes = [code for code, _ in old]
    new_codes = [code for code, _ in new]
    old_geoms = np.asarray([g for _, g in old], dtype=object)
    new_geoms = np.asarray([g for _, g in new], dtype=object)
    tree = shapely.STRtree(new_geoms)
    i_old, i_new = tree.query(old_geoms, predicate="intersects")
    shapely.prepare(new_geoms)
    inside = shapely.contains(new_geoms[i_new], old_geoms[i_old])
    pieces = np.empty(len(i_old), dtype=object)
    pieces[inside] = old_geoms[i_old[inside]]
    rest = ~inside
    pieces[rest] = shapely.intersection(old_geoms[i_old[rest]], new_geoms[i_new[rest]])
    piece_area = shapely.area(pieces)
    old_area = shapely.area(old_geoms)
    km2 = _local_area_km2(pieces)
    found: dict[int, list[tuple[int, float, float]]] = defaultdict(list)
    for o, n, a, k in zip(i_old.tolist(), i_new.tolist(), piece_area.tolist(), km2.tolist()):
        if a > 0:
            found[o].append((n, a / old_area[o] if old_area[o] > 0 else 0.0, k))
    links: list[Link] = []
    unmatched: list[str] = []
    slivers = 0
    for o, code in enumerate(old_codes):
        parts = found.get(o, [])
        kept = [p for p in parts if p[1] >= tolerance]
        if not kept and parts:  # a unit that is all slivers keeps its largest piece
            kept = [max(parts, key=lambda p: p[1])]
        slivers += len(parts) - len(kept)
        if not kept:
            unmatched.append(code)
            continue
        whole = sum(p[1] for p in kept)
        links.extend(Link(code, new_codes[n], share / whole, area) for n, share, area in
                     sorted(kept, key=lambda p: new_codes[p[0]]))
    return Crosswalk(links, unmatched, slivers)


def within_parents(crosswalk: Crosswalk, old_parent: Mapping[str, str], new_parent: Mapping[str, str]) -> Crosswalk:
    """Keep each old unit inside the new parent (province) its old parent mostly went into.

    In 2025 provinces merged whole, so a piece of an old commune lying in
    another new province is where two surveys of a provincial border
    disagree: it is dropped like a sliver, the remaining shares scaled back
    to one (an old unit with no piece in that province keeps its pieces).
    """
    area: dict[tuple[str, str], float] = defaultdict(float)
    for link in crosswalk.links:
        area[(old_parent.get(link.old, ""), new_parent.get(link.new, ""))] += link.area_km2
    target: dict[str, str] = {}
    for (old, new), _ in sorted(area.items(), key=lambda kv: (-kv[1], kv[0])):
        target.setdefault(old, new)
    links: list[Link] = []
    dropped = 0
    for old, group in crosswalk.by_old().items():
        home = target.get(old_parent.get(old, ""))
        kept = [link for link in group if new_parent.get(link.new) == home] or group
        dropped += len(group) - len(kept)
        whole = sum(link.share for link in kept)
        links.extend(replace(link, share=link.share / whole) for link in kept)
    return Crosswalk(links, crosswalk.unmatched, crosswalk.slivers + dropped)


# --- the official list ----------------------------------------------------------


def _share(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        share = float(str(value).strip().replace(",", ".")) if not isinstance(value, float) else value
    except ValueError:
        return math.nan
    return share


def check_official(
    rows: Sequence[Mapping[str, Any]], old_codes: set[str], new_codes: set[str]
) -> list[Link]:
    """Links from an official list, or CrosswalkError naming every bad row (rows numbered from 2: a header row).

    Each row is ``old_code, new_code[, share]``; the share may be left out when
    the old unit went wholly into one new unit. The shares of each old unit
    must sum to one.
    """
    problems: list[str] = []
    parts: dict[str, list[tuple[int, str, float | None]]] = defaultdict(list)
    for number, row in enumerate(rows, start=2):
        old = str(row.get("old_code") or "").strip()
        new = str(row.get("new_code") or "").strip()
        share = _share(row.get("share"))
        if not old or not new:
            problems.append(f"row {number}: old_code and new_code are required")
            continue
        if old not in old_codes:
            problems.append(f"row {number}: old code {old} is not in the old boundary set")
        if new not in new_codes:
            problems.append(f"row {number}: new code {new} is not in the new boundary set")
        if share is not None and not (0 < share <= 1):
            problems.append(f"row {number}: share must be a number above 0 and at most 1 (got {row.get('share')!r})")
        if any(new == seen for _, seen, _ in parts[old]):
            problems.append(f"row {number}: {old} → {new} is listed twice")
        parts[old].append((number, new, share))
    for old, entries in parts.items():
        shares = [s for _, _, s in entries]
        if len(entries) == 1 and shares[0] is None:
            continue
        if any(s is None for s in shares):
            problems.append(f"old code {old} is split (rows {', '.join(str(n) for n, _, _ in entries)}): "
                            "every row needs a share")
        elif all(not math.isnan(s) for s in shares) and abs(sum(shares) - 1) > SHARE_SLACK:
            problems.append(f"old code {old}: shares sum to {sum(shares):.4g}, not 1")
    if problems:
        raise CrosswalkError(problems)
    return [Link(old, new, share if share is not None else 1.0, 0.0, "official")
            for old, entries in parts.items() for _, new, share in entries]


def merge_official(computed: Crosswalk, official: Sequence[Link]) -> Crosswalk:
    """The computed crosswalk with every old unit the official list names replaced by the list's links."""
    named = {link.old for link in official}
    areas = {(link.old, link.new): link.area_km2 for link in computed.links}
    links = [link for link in computed.links if link.old not in named]
    links += [Link(o.old, o.new, o.share, areas.get((o.old, o.new), 0.0), "official") for o in official]
    links.sort(key=lambda link: (link.old, link.new))
    return Crosswalk(links, [code for code in computed.unmatched if code not in named], computed.slivers)


# --- checking against the households -------------------------------------------------


@dataclass
class HouseholdCheck:
    """How the households assigned under both sets agree with the crosswalk."""

    households: int = 0
    agreeing: int = 0
    disagreeing: list[tuple[str, str, int]] = field(default_factory=list)  # (old, new, households), most first

    @property
    def agreement(self) -> float | None:
        return self.agreeing / self.households if self.households else None


def check_households(crosswalk: Crosswalk, pairs: Mapping[tuple[str, str], int]) -> HouseholdCheck:
    """Households per (old unit, new unit) they were assigned to, compared with the links.

    A household in a pair the crosswalk has no link for sits where the two
    maps disagree: in a sliver, or a unit the crosswalk misses.
    """
    linked = {(link.old, link.new) for link in crosswalk.links}
    check = HouseholdCheck()
    for pair, count in pairs.items():
        check.households += count
        if pair in linked:
            check.agreeing += count
        else:
            check.disagreeing.append((pair[0], pair[1], count))
    check.disagreeing.sort(key=lambda d: (-d[2], d[0], d[1]))
    return check


# --- carrying figures across ------------------------------------------------------------


def largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Whole numbers proportional to ``weights`` adding up to exactly ``total``.

    Ties in the remainders go to the earlier weight, so the result is
    deterministic. Zero weights everywhere split evenly.
    """
    if not weights:
        raise ValueError("no weights to apportion over")
    whole = float(sum(weights))
    if whole <= 0:
        weights, whole = [1.0] * len(weights), float(len(weights))
    exact = [total * w / whole for w in weights]
    out = [math.floor(x) for x in exact]
    short = total - sum(out)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - out[i]), i))
    for i in order[:short]:
        out[i] += 1
    return out


def carry_weights(
    crosswalk: Crosswalk, households: Mapping[tuple[str, str], int] | None = None
) -> tuple[dict[str, list[tuple[str, float]]], dict[str, str]]:
    """For each old unit, its new units and weights, and how the weights were chosen.

    Households assigned under both sets decide where an old unit was split
    (only the pairs the crosswalk links); an old unit without such households
    is split by its shares of area.
    """
    households = households or {}
    weights: dict[str, list[tuple[str, float]]] = {}
    basis: dict[str, str] = {}
    for old, links in crosswalk.by_old().items():
        counts = [households.get((old, link.new), 0) for link in links]
        if len(links) > 1 and sum(counts) > 0:
            weights[old], basis[old] = [(link.new, float(c)) for link, c in zip(links, counts)], "households"
        else:
            weights[old] = [(link.new, link.share) for link in links]
            basis[old] = "whole" if len(links) == 1 else "area"
    return weights, basis


def carry(
    values: Mapping[str, Sequence[int]], weights: Mapping[str, Sequence[tuple[str, float]]]
) -> dict[str, list[int]]:
    """Whole-number ``values`` of old units summed onto new units.

    Each old unit's values are split over its new units by the largest
    remainder method, so every old value is preserved exactly. An old unit
    with no new unit is refused (CrosswalkError naming each).
    """
    missing = sorted(code for code in values if not weights.get(code))
    if missing:
        raise CrosswalkError([f"unit {code} overlaps no unit of the other map" for code in missing])
    out: dict[str, list[int]] = {}
    for old, numbers in values.items():
        targets = [new for new, _ in weights[old]]
        shares = [w for _, w in weights[old]]
        split = [largest_remainder(int(n), shares) for n in numbers]
        for k, new in enumerate(targets):
            row = out.setdefault(new, [0] * len(numbers))
            for f, parts in enumerate(split):
                row[f] += parts[k]
    return out
