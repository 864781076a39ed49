"""Commune assignment: which commune a household's GPS point falls in.

Pure geometry (Shapely 2, pyproj, numpy): no Flask, no database.

Rules, in order (see DESIGN.md, "Commune assignment"):

* **Containment** is tested in longitude/latitude, exactly on the published
  polygons, whose edges are straight lines in longitude/latitude (RFC 7946).
  A point on a polygon's boundary counts as inside it (GEOS ``intersects``),
  so a point exactly on a shared boundary is inside both communes and hence
  ambiguous even with a zero accuracy radius.
* **Candidates** are the communes whose polygon lies within ``accuracy_m``
  metres of the point, the containing one(s) included, sorted by code.  More
  than one candidate flags the point ``ambiguous``; the officer's declared
  commune then decides when it is among the candidates
  (``declared_tie_break``), otherwise the containing commune is kept
  (``contained``).  When several communes contain the point (the 2024 GADM
  set has rounding overlaps), the one in which the point lies deepest wins:
  the largest distance to that polygon's boundary, measured up to
  ``DEPTH_REACH_M``; equal depths go to the smallest code.
* **Swapped coordinates**: a point inside no commune is tried again with
  latitude and longitude exchanged.  If that lands in a commune the result is
  flagged ``swapped_coordinates``, carries the corrected point and goes
  through the normal rules (it may also be ambiguous).  A swapped point that
  lands in no commune but within snapping distance of one (a hole or sliver
  of the 2024 set), while the point as given is not, is also taken as
  swapped; it is then flagged ``outside`` as well.
* **Outside**: otherwise the point is flagged ``outside`` and kept, with the
  nearest commune and the distance to it in metres.  It goes to the nearest
  commune when that distance is at most ``max(accuracy_m, SNAP_TOLERANCE_M)``
  (``nearest``: this covers the holes and slivers of the 2024 set), else to
  the declared commune when the index knows it (``declared``), else to none
  (``unassigned``).  When several communes lie within the accuracy radius of
  an outside point it is also ``ambiguous``, and a declared commune among
  them decides, as above.
* **Mismatch**: a declared code known to the index that differs from the
  decided commune adds ``mismatch``.

Input that is not a place on Earth never raises: NaN or infinite
coordinates, and a latitude beyond +/-90 degrees whose swap does not help,
give an ``outside`` result with no nearest commune and no distance (then
``declared`` or ``unassigned``).  A NaN, infinite or negative accuracy is
taken as 0 m.

Distances are metres, never degrees.  A degree of longitude shrinks with
latitude (111.3 km at the equator, 103 km at Son La's 21.5 N) and a degree of
latitude is 110.6 to 111.7 km, so no fixed number of degrees is a radius in
metres.  Two tools are used:

* Searching turns a metric radius into a conservative degree radius
  (:func:`degree_radius`): metres divided by the fewest metres per degree in
  any direction anywhere the search can reach.  Every polygon within ``r``
  metres is then certainly within the degree radius; the search may return a
  few extra ones, never miss one.
* Measuring uses the WGS 84 ellipsoid's metres per degree of longitude and
  of latitude at the point itself (:func:`metres_per_degree`), applied to the
  straight lon/lat edges near it (indexed in runs of a few edges).  That
  linear map keeps the published edges straight, so a point outside a
  polygon is never measured as inside it, and it matches the ellipsoidal
  distance to about 0.01 % over a couple of kilometres (the scale drifts by
  that much across such a distance).  A projected copy of the polygons
  would not do: it bends the published edges by centimetres, enough to put
  a point on the wrong side of one.
* For an outside point farther than 2 km (and twice its snapping
  tolerance) from every commune, ``nearest`` is the commune of the nearest
  boundary point found in degrees and ``distance_m`` the geodesic distance
  (pyproj.Geod, WGS 84) to that point: exact for it, and at most about 8 %
  above the true nearest distance (the spread of metres per degree by
  direction at Vietnam's latitudes).  Such a point is never snapped.

Speed: :meth:`CommuneIndex.assign_many` first looks every point up in a
raster built once with the index (see :class:`_Raster`), which settles the
great majority in numpy alone: points inside exactly one commune, not within
a hair of an edge, and whose other communes are certainly beyond or
certainly within the radius.  The rest (points on or very near boundaries,
overlaps, large radii, outside, swapped) take the exact path through the
STRtrees and prepared polygons, which is also the only path
:meth:`CommuneIndex.assign` uses.  Both give identical results.
"""
from __future__ import annotations

import gc
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from pyproj import Geod

from tracker.geo.sources import read_features

FLAG_AMBIGUOUS = "ambiguous"
FLAG_OUTSIDE = "outside"
FLAG_SWAPPED = "swapped_coordinates"
FLAG_MISMATCH = "mismatch"

#: All flags, most important first; bit ``1 << i`` in a batch's bitmask.
FLAGS: tuple[str, ...] = (FLAG_OUTSIDE, FLAG_SWAPPED, FLAG_AMBIGUOUS, FLAG_MISMATCH)
BIT_OUTSIDE, BIT_SWAPPED, BIT_AMBIGUOUS, BIT_MISMATCH = (1 << i for i in range(len(FLAGS)))

METHOD_CONTAINED = "contained"
METHOD_TIE_BREAK = "declared_tie_break"
METHOD_NEAREST = "nearest"
METHOD_DECLARED = "declared"
METHOD_UNASSIGNED = "unassigned"

#: Method names by the small integer codes a batch stores.
METHODS: tuple[str, ...] = (
    METHOD_CONTAINED,
    METHOD_TIE_BREAK,
    METHOD_NEAREST,
    METHOD_DECLARED,
    METHOD_UNASSIGNED,
)
M_CONTAINED, M_TIE_BREAK, M_NEAREST, M_DECLARED, M_UNASSIGNED = range(len(METHODS))

#: An outside point within this many metres of a commune (or within its
#: accuracy radius, if larger) is assigned to that commune.
SNAP_TOLERANCE_M = 250.0
#: How far depth inside overlapping communes is measured.
DEPTH_REACH_M = 200.0

#: Default raster cell size for the fast path, in metres (north-south).
DEFAULT_CELL_M = 100.0
#: Upper bound on raster grid cells; the cell grows when the index is larger.
DEFAULT_MAX_CELLS = 20_000_000

# WGS 84.
_A = 6_378_137.0
_E2 = 6.694_379_990_14e-3
_GEOD = Geod(ellps="WGS84")
# Fewest metres per degree of latitude (the meridian at the equator,
# 110,574.3 m) and of longitude at the equator (111,319.5 m, times cos(lat)
# elsewhere), rounded down, used with a further safety factor; most metres
# per degree in any direction (the meridian at the poles, 111,693.9 m).
_M_PER_DEG_LAT_MIN = 110_574.0
_M_PER_DEG_LON_EQ = 111_319.0
_M_PER_DEG_MAX = 111_700.0
_RADIUS_SAFETY = 0.999
# Outside points closer than this (or than twice their snapping tolerance)
# to a commune get the exact nearest commune and distance.
_EXACT_NEAREST_M = 2_000.0
# Raster clearance is counted in whole edge-free cell rings up to this many.
_MAX_RINGS = 4
# Boundary edges are indexed in runs of this many.
_CHUNK = 16
_POLY_BITS = 24  # (point, polygon) pairs are packed as point << 24 | polygon
_POLY_MASK = (1 << _POLY_BITS) - 1


def degree_radius(lat: Any, radius_m: Any) -> np.ndarray:
    """A search radius in degrees that surely covers ``radius_m`` metres.

    Along any path the ellipsoidal length is at least ``m_min`` times the
    path's Euclidean length in the (lon, lat) plane, where ``m_min`` is the
    fewest metres per degree in any direction at any latitude the path
    reaches.  A path of at most ``radius_m`` metres stays within
    ``radius_m / 110,574`` degrees of its start latitude, so dividing by
    ``m_min`` there gives a degree radius holding every point within
    ``radius_m`` metres (not across the antimeridian or at the poles, neither
    of which concerns Vietnam).
    """
    lat = np.abs(np.asarray(lat, dtype=float))
    radius_m = np.asarray(radius_m, dtype=float)
    reach = np.minimum(lat + radius_m / _M_PER_DEG_LAT_MIN, 89.999)
    per_deg = np.minimum(_M_PER_DEG_LAT_MIN, _M_PER_DEG_LON_EQ * np.cos(np.radians(reach)))
    return radius_m / (per_deg * _RADIUS_SAFETY)


def metres_per_degree(lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Metres per degree of longitude and of latitude at ``lat`` (WGS 84)."""
    phi = np.radians(np.asarray(lat, dtype=float))
    w2 = 1.0 - _E2 * np.sin(phi) ** 2
    to_rad = math.pi / 180.0
    along_parallel = _A / np.sqrt(w2) * np.cos(phi) * to_rad
    along_meridian = _A * (1.0 - _E2) / (w2 * np.sqrt(w2)) * to_rad
    return along_parallel, along_meridian


@dataclass(frozen=True)
class Assignment:
    """The outcome for one GPS point."""

    commune: str | None
    method: str
    flags: tuple[str, ...]
    candidates: tuple[str, ...]
    nearest: str | None
    distance_m: float | None
    lat: float
    lon: float

    @property
    def flag(self) -> str | None:
        """The most important flag: outside > swapped > ambiguous > mismatch."""
        return self.flags[0] if self.flags else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN coordinates become None)."""
        return {
            "commune": self.commune,
            "method": self.method,
            "flag": self.flag,
            "flags": list(self.flags),
            "candidates": list(self.candidates),
            "nearest": self.nearest,
            "distance_m": None if self.distance_m is None else round(self.distance_m, 1),
            "lat": self.lat if math.isfinite(self.lat) else None,
            "lon": self.lon if math.isfinite(self.lon) else None,
        }


def flag_names(bits: int) -> tuple[str, ...]:
    """The flags set in a bitmask, most important first."""
    return tuple(name for i, name in enumerate(FLAGS) if bits & (1 << i))


class AssignmentBatch:
    """Columnar results of :meth:`CommuneIndex.assign_many`.

    numpy arrays, one entry per input point:

    * ``commune``: int32 index into ``codes_index`` of the decided commune, -1 for none
    * ``method``: int8 index into :data:`METHODS`
    * ``flags``: uint8 bitmask over :data:`FLAGS` (bit ``1 << i`` for ``FLAGS[i]``)
    * ``nearest``: int32 index of the nearest commune for outside points, else -1
    * ``distance_m``: float64 metres to it for outside points, else NaN
    * ``lat``, ``lon``: float64, the point used (corrected when swapped)
    * ``candidate_offsets`` (n + 1, int64) and ``candidate_index`` (int32):
      the candidates of point ``i``, sorted by code, are
      ``candidate_index[candidate_offsets[i]:candidate_offsets[i + 1]]``.

    Python objects are only built on request (:meth:`codes`, :meth:`row`...).
    """

    __slots__ = (
        "codes_index",
        "commune",
        "method",
        "flags",
        "nearest",
        "distance_m",
        "lat",
        "lon",
        "candidate_offsets",
        "candidate_index",
        "_lookup",
    )

    def __init__(self, codes_index: tuple[str, ...], lookup: np.ndarray, **columns: np.ndarray):
        self.codes_index = codes_index
        self._lookup = lookup  # codes plus None at [-1]
        for name in self.__slots__[1:-1]:
            setattr(self, name, columns[name])

    def __len__(self) -> int:
        return len(self.commune)

    def __iter__(self) -> Iterator[Assignment]:
        return (self.row(i) for i in range(len(self)))

    def codes(self) -> list[str | None]:
        """The decided commune code of every point (None when undecided)."""
        return self._lookup[self.commune].tolist()

    def nearest_codes(self) -> list[str | None]:
        """The nearest commune code of every outside point (None otherwise)."""
        return self._lookup[self.nearest].tolist()

    def method_names(self) -> list[str]:
        return [METHODS[m] for m in self.method.tolist()]

    def flag_names(self, i: int) -> tuple[str, ...]:
        """The flags of point ``i``, most important first."""
        return flag_names(int(self.flags[i]))

    def primary_flags(self) -> list[str | None]:
        """The most important flag of every point (None when unflagged)."""
        table = [flag_names(bits)[0] if bits else None for bits in range(1 << len(FLAGS))]
        return [table[bits] for bits in self.flags.tolist()]

    def candidates(self, i: int) -> tuple[str, ...]:
        lo, hi = self.candidate_offsets[i], self.candidate_offsets[i + 1]
        return tuple(self.codes_index[j] for j in self.candidate_index[lo:hi].tolist())

    def row(self, i: int) -> Assignment:
        """Materialise point ``i`` as an :class:`Assignment`."""
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        distance = float(self.distance_m[i])
        return Assignment(
            commune=self._lookup[self.commune[i]],
            method=METHODS[int(self.method[i])],
            flags=self.flag_names(i),
            candidates=self.candidates(i),
            nearest=self._lookup[self.nearest[i]],
            distance_m=None if math.isnan(distance) else distance,
            lat=float(self.lat[i]),
            lon=float(self.lon[i]),
        )


@dataclass
class _Exact:
    """Exact-path results for a subset of points (pairs sorted by point, code)."""

    commune: np.ndarray
    method: np.ndarray
    flags: np.ndarray
    nearest: np.ndarray
    distance_m: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    pair_point: np.ndarray
    pair_commune: np.ndarray


class _Edges:
    """Every polygon edge, in degrees, numbered polygon by polygon, with an
    STRtree over runs of up to ``_CHUNK`` consecutive edges of a ring."""

    def __init__(self, geoms: np.ndarray):
        parts, part_owner = shapely.get_parts(geoms, return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
        same = np.flatnonzero(coord_ring[:-1] == coord_ring[1:])
        self.ax, self.ay = coords[same, 0], coords[same, 1]
        self.bx, self.by = coords[same + 1, 0], coords[same + 1, 1]
        ring = coord_ring[same]
        self.poly = part_owner[ring_part[ring]].astype(np.int32)
        del parts, rings, coords, coord_ring
        # Runs: consecutive edges of one ring, at most _CHUNK of them.
        n = len(ring)
        ring_start = np.flatnonzero(np.r_[True, ring[1:] != ring[:-1]])
        pos = np.arange(n) - np.repeat(ring_start, np.diff(np.r_[ring_start, n]))
        new_run = (pos % _CHUNK) == 0
        run = np.cumsum(new_run) - 1
        self.run_first = np.flatnonzero(new_run)
        self.run_len = np.diff(np.r_[self.run_first, n])
        runs = len(self.run_first)
        # Vertices of each run: its edges' starts, then its last edge's end.
        vx = np.empty(n + runs)
        vy = np.empty(n + runs)
        vrun = np.empty(n + runs, dtype=np.int64)
        at = np.arange(n) + run
        vx[at], vy[at], vrun[at] = self.ax, self.ay, run
        last = self.run_first + self.run_len - 1
        at = last + np.arange(runs) + 1
        vx[at], vy[at], vrun[at] = self.bx[last], self.by[last], np.arange(runs)
        self.runs = shapely.linestrings(vx, vy, indices=vrun)
        self.tree = shapely.STRtree(self.runs)

    @property
    def nbytes(self) -> int:
        arrays = (self.ax, self.ay, self.bx, self.by, self.poly, self.run_first, self.run_len)
        return sum(a.nbytes for a in arrays)


class _Raster:
    """The vectorised fast path: a raster of cells plus per-cell edge lists.

    Cells are squares of ``step`` degrees; all geometry inside this class is
    in cell units (degrees / step from the grid origin), a uniform scaling
    that keeps Euclidean comparisons intact.

    * A cell no polygon edge touches lies wholly inside the same polygons.
      When that is exactly one, ``value`` holds its index and, in the top
      bits, how many complete rings of such edge-free cells surround it
      (capped): a point there is at least ``rings + distance to its own
      cell's border`` cells from every edge (stage 1).
    * A cell some edge touches holds ``-(list + 2)``: ``list`` numbers its
      edge list (every edge touching the closed cell) and its anchor, the
      polygon containing the cell centre (-1 none, -2 unknown).  A point in
      it is located exactly, in numpy, from the anchor: the edges crossing
      the path from the point to the centre flip containment, and its
      distance to the edges of the cell and of the neighbouring cells bounds
      the distance to every other polygon (stage 2).
    * -1 marks edge-free cells inside no polygon or inside several.

    Whatever the raster cannot settle beyond doubt (on or within a hair of
    an edge, another polygon within the radius, outside, overlaps, radius
    of a cell or more) is left to the exact path.
    """

    EPS = 1e-6  # cell units: closer to an edge than this is "on" it
    OWNER_BITS = 24
    BLOCK_SHIFT = 4  # storage blocks of 16 x 16 cells
    REACH = 1  # stage 2 looks this many cells around the point's own cell

    def __init__(self, edges: _Edges, bounds: Sequence[float], step: float, max_rings: int = _MAX_RINGS):
        minx, miny, maxx, maxy = bounds
        self.step = step
        self.x0 = minx - step
        self.y0 = miny - step
        self.ncols = int(math.ceil((maxx - self.x0) / step)) + 2
        self.nrows = int(math.ceil((maxy - self.y0) / step)) + 2
        # Edge ends in cell units; edges are numbered polygon by polygon.
        self.ax = (edges.ax - self.x0) / step
        self.ay = (edges.ay - self.y0) / step
        self.bx = (edges.bx - self.x0) / step
        self.by = (edges.by - self.y0) / step
        self.edge_poly = edges.poly

        centre = self._centre_owner()
        pair_cell, pair_edge = self._touching()
        first = np.flatnonzero(np.r_[True, pair_cell[1:] != pair_cell[:-1]])
        touched = pair_cell[first]
        self.list_offsets = np.append(first, len(pair_cell)).astype(np.int64)
        self.list_edges = pair_edge.astype(np.int32)
        anchor = centre.ravel()[touched]
        # An anchor closer to an edge than EPS is not trusted.
        cx = (pair_cell % self.ncols) + 0.5
        cy = (pair_cell // self.ncols) + 0.5
        ax, ay, bx, by = (a[pair_edge] for a in (self.ax, self.ay, self.bx, self.by))
        eps = self.EPS
        maybe = np.flatnonzero(
            (np.minimum(ax, bx) - eps <= cx) & (cx <= np.maximum(ax, bx) + eps)
            & (np.minimum(ay, by) - eps <= cy) & (cy <= np.maximum(ay, by) + eps)
        )
        near = _segment_d2(cx[maybe], cy[maybe], ax[maybe], ay[maybe], bx[maybe], by[maybe]) <= eps * eps
        bad = _sorted_unique(pair_cell[maybe[near]])
        del ax, ay, bx, by
        anchor[np.searchsorted(touched, bad)] = -2
        self.list_anchor = anchor.astype(np.int32)
        del pair_cell, pair_edge, cx, cy, near

        free = centre >= 0
        free.ravel()[touched] = False
        ring_count = self._clearance(free, max_rings).astype(np.int32)
        value = np.where(free, centre | (ring_count << self.OWNER_BITS), -1).astype(np.int32)
        del free, ring_count, centre
        value.ravel()[touched] = -(np.arange(len(touched), dtype=np.int32) + 2)
        self._store_blocks(value)
        del value
        self.list_offsets = self.list_offsets.astype(np.int32 if len(self.list_edges) < 2**31 else np.int64)
        self.nbytes = sum(
            a.nbytes
            for a in (self.blocks, self.pool, self.list_offsets, self.list_edges, self.list_anchor,
                      self.ax, self.ay, self.bx, self.by, self.edge_poly)
        )

    def _store_blocks(self, value: np.ndarray) -> None:
        """Keep only the blocks of cells holding something other than -1."""
        size = 1 << self.BLOCK_SHIFT
        self.block_rows = -(-self.nrows // size)
        self.block_cols = -(-self.ncols // size)
        padded = np.full((self.block_rows * size, self.block_cols * size), -1, dtype=np.int32)
        padded[: self.nrows, : self.ncols] = value
        tiles = padded.reshape(self.block_rows, size, self.block_cols, size).swapaxes(1, 2)
        tiles = tiles.reshape(self.block_rows * self.block_cols, size * size)
        used = np.flatnonzero((tiles != -1).any(axis=1))
        self.blocks = np.full(len(tiles), -1, dtype=np.int32)
        self.blocks[used] = np.arange(len(used), dtype=np.int32)
        self.pool = np.ascontiguousarray(tiles[used]).ravel()

    def _touching(self) -> tuple[np.ndarray, np.ndarray]:
        """(cell, edge) pairs: every cell each edge touches, sorted, unique.

        Every edge is sampled at most one cell apart in each axis, so each of
        its points is within half a cell (per axis) of a sample: the cells
        meeting a one-cell box around each sample include every cell the
        edge touches.  Of those, the cells (grown by EPS) that the edge
        really meets are kept: a box meets a segment when their bounding
        boxes overlap and the box's corners are not all strictly on one side
        of the segment's line.
        """
        ax, ay, bx, by = self.ax, self.ay, self.bx, self.by
        count = np.ceil(np.maximum(np.abs(bx - ax), np.abs(by - ay))).astype(np.int64) + 1
        edge = np.repeat(np.arange(len(ax)), count)
        first = np.cumsum(count) - count
        t = (np.arange(len(edge)) - first[edge]) / np.maximum(count - 1, 1)[edge]
        px = ax[edge] + t * (bx - ax)[edge]
        py = ay[edge] + t * (by - ay)[edge]
        del t
        eps = self.EPS
        half = 0.5 + eps
        xlo = np.floor(px - half).astype(np.int64)
        xhi = np.floor(px + half).astype(np.int64)
        ylo = np.floor(py - half).astype(np.int64)
        yhi = np.floor(py + half).astype(np.int64)
        del px, py
        keys = []
        for dy in range(3):
            for dx in range(3):
                sel = np.flatnonzero((xlo + dx <= xhi) & (ylo + dy <= yhi))
                e = edge[sel]
                col = xlo[sel] + dx
                row = ylo[sel] + dy
                meets = (
                    (np.minimum(ax[e], bx[e]) <= col + 1 + eps)
                    & (np.maximum(ax[e], bx[e]) >= col - eps)
                    & (np.minimum(ay[e], by[e]) <= row + 1 + eps)
                    & (np.maximum(ay[e], by[e]) >= row - eps)
                )
                ux, uy = bx[e] - ax[e], by[e] - ay[e]
                side = [
                    ux * (cy - ay[e]) - uy * (cx - ax[e])
                    for cx in (col - eps, col + 1 + eps)
                    for cy in (row - eps, row + 1 + eps)
                ]
                above = (side[0] > 0) & (side[1] > 0) & (side[2] > 0) & (side[3] > 0)
                below = (side[0] < 0) & (side[1] < 0) & (side[2] < 0) & (side[3] < 0)
                meets &= ~above & ~below
                rows = np.clip(row[meets], 0, self.nrows - 1)
                cols = np.clip(col[meets], 0, self.ncols - 1)
                keys.append((rows * self.ncols + cols) * len(ax) + e[meets])
        key = _sorted_unique(np.concatenate(keys))
        return key // len(ax), key % len(ax)

    def _centre_owner(self) -> np.ndarray:
        """Per cell centre: the polygon containing it when exactly one does,
        -1 when none does, -2 when several do.

        Even-odd scanline fill: for each polygon and each row of cell centres,
        the crossings of its rings with the row, sorted, pair up into spans.
        Raises ValueError when the crossings do not pair (invalid polygons).
        """
        ax, ay, bx, by = self.ax, self.ay, self.bx, self.by
        ylo = np.minimum(ay, by)
        yhi = np.maximum(ay, by)
        # Rows whose centre line r + 0.5 lies in [ylo, yhi).
        r0 = np.ceil(ylo - 0.5).astype(np.int64)
        r1 = np.ceil(yhi - 0.5).astype(np.int64)
        count = np.maximum(r1 - r0, 0)
        edge = np.repeat(np.arange(len(ax)), count)
        first = np.cumsum(count) - count
        row = r0[edge] + (np.arange(len(edge)) - first[edge])
        slope = (bx - ax)[edge] / (by - ay)[edge]
        x = ax[edge] + (row + 0.5 - ay[edge]) * slope
        poly = self.edge_poly[edge]
        del edge, slope
        order = np.lexsort((x, row, poly))
        x, row, poly = x[order], row[order], poly[order]
        if len(x) % 2 or np.any(row[0::2] != row[1::2]) or np.any(poly[0::2] != poly[1::2]):
            raise ValueError("polygon rings do not close: cannot rasterise")
        # Cells whose centre c + 0.5 lies in [x_in, x_out).
        c0 = np.clip(np.ceil(x[0::2] - 0.5), 0, self.ncols).astype(np.int64)
        c1 = np.clip(np.ceil(x[1::2] - 0.5), 0, self.ncols).astype(np.int64)
        row, poly = row[0::2], poly[0::2]
        keep = c1 > c0
        c0, c1, row, poly = c0[keep], c1[keep], row[keep], poly[keep]

        owner = np.full((self.nrows, self.ncols), -1, dtype=np.int32)
        width = self.ncols + 1
        by_row = np.argsort(row, kind="stable")
        c0, c1, row, poly = c0[by_row], c1[by_row], row[by_row], poly[by_row]
        band = max(1, 4_000_000 // width)
        for top in range(0, self.nrows, band):
            lo, hi = np.searchsorted(row, [top, top + band])
            if lo == hi:
                continue
            rows = min(band, self.nrows - top)
            base = (row[lo:hi] - top) * width
            at = np.concatenate([base + c0[lo:hi], base + c1[lo:hi]])
            ones = np.ones(hi - lo)
            ids = poly[lo:hi].astype(float)
            cnt = np.bincount(at, weights=np.concatenate([ones, -ones]), minlength=rows * width)
            tot = np.bincount(at, weights=np.concatenate([ids, -ids]), minlength=rows * width)
            cnt = np.rint(np.cumsum(cnt.reshape(rows, width), axis=1)[:, :-1])
            tot = np.rint(np.cumsum(tot.reshape(rows, width), axis=1)[:, :-1])
            owner[top:top + rows] = np.where(cnt == 1, tot, np.where(cnt == 0, -1, -2))
        return owner

    @staticmethod
    def _clearance(free: np.ndarray, max_rings: int) -> np.ndarray:
        """Complete rings of free cells around each cell (0 to max_rings)."""
        rings = np.zeros(free.shape, dtype=np.uint8)
        cur = free
        for _ in range(max_rings):
            across = cur.copy()
            across[:, 1:] &= cur[:, :-1]
            across[:, :-1] &= cur[:, 1:]
            across[:, [0, -1]] = False
            nxt = across.copy()
            nxt[1:] &= across[:-1]
            nxt[:-1] &= across[1:]
            nxt[[0, -1]] = False
            if not nxt.any():
                break
            rings += nxt
            cur = nxt
        return rings

    def settle(
        self, lon: np.ndarray, lat: np.ndarray, radius_deg: np.ndarray, radius_m: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What the raster settles beyond doubt.

        Returns ``owner`` (the only polygon containing each point, -1 when
        not settled here) and (point, polygon) pairs, sorted and unique,
        naming the other polygons certainly within ``radius_m`` metres of a
        settled point.  A point is settled when it is inside exactly one
        polygon, not within EPS of any edge, and every other polygon is
        either certainly within ``radius_m`` or certainly beyond it.
        """
        gx = (lon - self.x0) / self.step
        gy = (lat - self.y0) / self.step
        r = radius_deg / self.step
        with np.errstate(invalid="ignore"):
            inside = (gx >= 0) & (gx < self.ncols) & (gy >= 0) & (gy < self.nrows) & (r >= 0)
        gx = np.where(inside, gx, 0.5)
        gy = np.where(inside, gy, 0.5)
        r = np.where(inside, r, 0.0)
        col = gx.astype(np.intp)
        row = gy.astype(np.intp)
        value = np.where(inside, self.cell_value(row, col), -1)
        # Stage 1: edge-free cells.
        fx = gx - col
        fy = gy - row
        margin = np.minimum(np.minimum(fx, 1.0 - fx), np.minimum(fy, 1.0 - fy))
        owner = value & ((1 << self.OWNER_BITS) - 1)
        rings = value >> self.OWNER_BITS
        done = (value >= 0) & (r < rings + margin)
        result = np.where(done, owner, -1)
        # Stage 2: exact local geometry.
        todo = np.flatnonzero(~done & (value != -1) & (r < self.REACH))
        extra_point = extra_poly = np.zeros(0, dtype=np.int64)
        if len(todo):
            local, extra_point, extra_poly = self._settle_local(
                gx[todo], gy[todo], r[todo], radius_m[todo], row[todo], col[todo], value[todo]
            )
            result[todo] = local
            extra_point = todo[extra_point]
        return result, extra_point, extra_poly

    def cell_value(self, row: np.ndarray, col: np.ndarray) -> np.ndarray:
        """Cell values (rows and columns must be inside the grid)."""
        block = self.blocks[(row >> self.BLOCK_SHIFT) * self.block_cols + (col >> self.BLOCK_SHIFT)]
        mask = (1 << self.BLOCK_SHIFT) - 1
        at = (block.astype(np.intp) << (2 * self.BLOCK_SHIFT)) + ((row & mask) << self.BLOCK_SHIFT) + (col & mask)
        return np.where(block >= 0, self.pool[np.where(block >= 0, at, 0)], -1)

    def _settle_local(self, gx, gy, r, radius_m, row, col, value):
        m = len(gx)
        eps = self.EPS
        own_list = value <= -2
        lid = np.where(own_list, -value - 2, 0)
        anchor = np.where(own_list, self.list_anchor[lid], -1)
        owner = np.where(own_list, -1, value & ((1 << self.OWNER_BITS) - 1))
        ok = ~own_list | (anchor >= -1)

        # Edges of the point's own cell: containment (touched cells) and distance.
        first = self.list_offsets[lid]
        count = np.where(own_list, self.list_offsets[lid + 1] - first, 0)
        point, edge = _expand(first, count)
        n_own = len(point)
        # Edges of the other cells that the box of radius r meets (r < REACH).
        c0 = np.floor(gx - r).astype(np.intp)
        c1 = np.floor(gx + r).astype(np.intp)
        r0 = np.floor(gy - r).astype(np.intp)
        r1 = np.floor(gy + r).astype(np.intp)
        more_p, more_e = [point], [edge]
        steps = range(-self.REACH, self.REACH + 1)
        for dr, dc in ((dr, dc) for dr in steps for dc in steps if dr or dc):
            need = np.ones(m, dtype=bool)
            if dc:
                need &= (c0 <= col + dc) if dc < 0 else (c1 >= col + dc)
            if dr:
                need &= (r0 <= row + dr) if dr < 0 else (r1 >= row + dr)
            sub = np.flatnonzero(need)
            if not len(sub):
                continue
            rr, cc = row[sub] + dr, col[sub] + dc
            inside = (cc >= 0) & (cc < self.ncols) & (rr >= 0) & (rr < self.nrows)
            sub, rr, cc = sub[inside], rr[inside], cc[inside]
            v = self.cell_value(rr, cc)
            touched = v <= -2
            sub, nlid = sub[touched], -v[touched] - 2
            nfirst = self.list_offsets[nlid]
            p, e = _expand(nfirst, self.list_offsets[nlid + 1] - nfirst)
            more_p.append(sub[p])
            more_e.append(e)
        if len(more_p) > 1:
            point = np.concatenate(more_p)
            edge = np.concatenate(more_e)
        edge = self.list_edges[edge]
        px, py = gx[point], gy[point]
        ax, ay, bx, by = self.ax[edge], self.ay[edge], self.bx[edge], self.by[edge]
        poly = self.edge_poly[edge]
        d2 = _segment_d2(px, py, ax, ay, bx, by)
        # On (or within a hair of) an edge: leave it to the exact path.
        ok[point[d2 <= eps * eps]] = False

        if n_own:
            # Containment in a touched cell, from the anchor (its centre C) to
            # the point P along P -> Q = (C.x, P.y) -> C.  Crossings are counted
            # with the half-open rules of horizontal and vertical ray casting,
            # which agree with each other and with the truth at P, Q and C
            # unless one lies on an edge: P near an edge is refused above, C
            # near one at build time, and Q here (the computed crossing falls
            # within EPS of Q).
            p = point[:n_own]
            qx = col[p] + 0.5
            qy = gy[p]
            cy = row[p] + 0.5
            oax, oay, obx, oby = ax[:n_own], ay[:n_own], bx[:n_own], by[:n_own]
            with np.errstate(divide="ignore", invalid="ignore"):
                straddle_h = (oay > qy) != (oby > qy)
                xi = oax + (qy - oay) * ((obx - oax) / (oby - oay))
                straddle_v = (oax > qx) != (obx > qx)
                yi = oay + (qx - oax) * ((oby - oay) / (obx - oax))
                flip = (straddle_h & ((xi > px[:n_own]) != (xi > qx))) != (
                    straddle_v & ((yi > qy) != (yi > cy))
                )
                near_q = (straddle_h & (np.abs(xi - qx) <= eps)) | (straddle_v & (np.abs(yi - qy) <= eps))
            ok[p[near_q]] = False
            # Parity per (point, polygon): a cell's list is sorted by edge,
            # hence by polygon, and own-cell pairs come point by point.
            opoly = poly[:n_own]
            key = p.astype(np.int64) << self.OWNER_BITS | opoly
            head = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
            odd = np.add.reduceat(flip.astype(np.int8), head) & 1
            gp, gpoly = p[head], opoly[head]
            is_anchor = gpoly == anchor[gp]
            inside = (odd == 1) != is_anchor
            n_in = np.bincount(gp[inside], minlength=m)
            id_sum = np.bincount(gp[inside], weights=gpoly[inside], minlength=m)
            anchor_seen = np.zeros(m, dtype=bool)
            anchor_seen[gp[is_anchor]] = True
            keep_anchor = own_list & (anchor >= 0) & ~anchor_seen
            n_in = n_in + keep_anchor
            located = np.rint(id_sum).astype(np.int64) + np.where(keep_anchor, anchor, 0)
        else:
            n_in = (own_list & (anchor >= 0)).astype(np.int64)
            located = anchor
        owner = np.where(own_list, np.where(n_in == 1, located, -1), owner)
        ok &= owner >= 0
        # Every other polygon must be certainly beyond the radius, or
        # certainly within it (then it is a further candidate).  Degrees
        # convert to metres between the smallest scale (giving ``r``) and the
        # largest (111,694 m per degree of latitude at the poles; never more
        # in longitude), with a margin for the exact path's own rounding.
        other = poly != owner[point]
        within = other & (d2 <= r[point] ** 2)
        metres = np.sqrt(d2[within]) * (self.step * _M_PER_DEG_MAX * (1 + 1e-3))
        sure = metres <= radius_m[point[within]]
        key = point[within].astype(np.int64) << self.OWNER_BITS | poly[within]
        sure_keys = _sorted_unique(key[sure])
        unsure = key[~sure]
        ok[(unsure[~np.isin(unsure, sure_keys)] >> self.OWNER_BITS)] = False
        result = np.where(ok, owner, -1)
        extra_point = sure_keys >> self.OWNER_BITS
        keep = ok[extra_point]
        return result, extra_point[keep], (sure_keys & ((1 << self.OWNER_BITS) - 1))[keep]


def _segment_d2(px, py, ax, ay, bx, by) -> np.ndarray:
    """Squared distance from points to segments (same units in and out)."""
    dx = bx - ax
    dy = by - ay
    length2 = dx * dx + dy * dy
    with np.errstate(divide="ignore", invalid="ignore"):
        t = ((px - ax) * dx + (py - ay) * dy) / length2
    t = np.clip(np.where(length2 > 0, t, 0.0), 0.0, 1.0)
    ex = ax + t * dx - px
    ey = ay + t * dy - py
    return ex * ex + ey * ey


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort-based: faster than hashing for big int arrays)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _first_of_groups(keys: np.ndarray) -> np.ndarray:
    """Mask of the first element of each run of equal values in a sorted array."""
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return first


def _expand(first: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For runs ``first[i] .. first[i] + count[i] - 1``: (run index, position) pairs."""
    total = int(count.sum())
    run = np.repeat(np.arange(len(count)), count)
    start = np.cumsum(count) - count
    return run, first[run] + (np.arange(total) - start[run])


_EMPTY = np.zeros(0, dtype=np.int64)


class CommuneIndex:
    """Assigns GPS points to communes; build once per boundary set.

    ``codes`` and ``geometries`` (Polygon/MultiPolygon in WGS 84 lon/lat) are
    parallel; codes are strings and must be unique.  The geometries are
    prepared in place.  ``cell_m`` sets the fast-path raster cell (None turns
    the raster off); ``max_cells`` caps the raster grid, whose memory is
    :attr:`raster_bytes`.
    """

    def __init__(
        self,
        codes: Sequence[str],
        geometries: Sequence[Any],
        *,
        cell_m: float | None = DEFAULT_CELL_M,
        max_cells: int = DEFAULT_MAX_CELLS,
    ):
        codes = tuple(str(code) for code in codes)
        geoms = np.asarray(list(geometries), dtype=object)
        if len(codes) != len(geoms):
            raise ValueError(f"{len(codes)} codes for {len(geoms)} geometries")
        if not codes:
            raise ValueError("an index needs at least one commune")
        if len(codes) > _POLY_MASK:
            raise ValueError("too many communes for one index")
        if len(set(codes)) != len(codes):
            raise ValueError("commune codes must be unique")
        kinds = shapely.get_type_id(geoms)
        if np.any((kinds != shapely.GeometryType.POLYGON) & (kinds != shapely.GeometryType.MULTIPOLYGON)):
            raise ValueError("every geometry must be a Polygon or MultiPolygon")
        if np.any(shapely.is_empty(geoms)):
            raise ValueError("empty geometry")
        bounds = shapely.total_bounds(geoms)
        if not (np.isfinite(bounds).all() and -90 <= bounds[1] and bounds[3] <= 90):
            raise ValueError("geometries must be WGS 84 longitude/latitude")

        self.codes: tuple[str, ...] = codes
        self._index_of = {code: i for i, code in enumerate(codes)}
        self._lookup = np.array(list(codes) + [None], dtype=object)  # [-1] -> None
        self._rank = np.argsort(np.argsort(np.array(codes, dtype=object), kind="stable")).astype(np.int64)

        self._geoms = geoms
        shapely.prepare(geoms)
        self._tree = shapely.STRtree(geoms)
        self._edges = _Edges(geoms)

        self._raster: _Raster | None = None
        if cell_m:
            step = cell_m / _M_PER_DEG_LAT_MIN
            cells = ((bounds[2] - bounds[0]) / step + 4) * ((bounds[3] - bounds[1]) / step + 4)
            if cells > max_cells:
                step *= math.sqrt(cells / max_cells)
            try:
                self._raster = _Raster(self._edges, bounds, step)
            except ValueError:  # rings that do not close: no fast path
                self._raster = None

    # ---- construction helpers -------------------------------------------------

    @classmethod
    def from_features(
        cls, features: Sequence[dict[str, Any]], code_property: str = "code", **kwargs: Any
    ) -> CommuneIndex:
        """An index from GeoJSON feature dicts (see ``sources.read_features``)."""
        codes = [feature["properties"][code_property] for feature in features]
        geoms = [shapely.geometry.shape(feature["geometry"]) for feature in features]
        return cls(codes, geoms, **kwargs)

    @classmethod
    def from_file(cls, path: str | Path, code_property: str = "code", **kwargs: Any) -> CommuneIndex:
        """An index from a GeoJSON FeatureCollection file."""
        return cls.from_features(read_features(Path(path)), code_property, **kwargs)

    def __len__(self) -> int:
        return len(self.codes)

    def __contains__(self, code: object) -> bool:
        return code in self._index_of

    def geometry(self, code: str) -> Any:
        """The polygon of a commune."""
        return self._geoms[self._index_of[code]]

    @property
    def raster_bytes(self) -> int:
        """Memory held by the fast-path raster (0 when off)."""
        return 0 if self._raster is None else self._raster.nbytes

    # ---- public API -----------------------------------------------------------

    def assign(self, lat: float, lon: float, accuracy_m: float, declared: str | None = None) -> Assignment:
        """Assign one point (always through the exact path)."""
        batch = self._batch(
            np.array([lon], dtype=float),
            np.array([lat], dtype=float),
            np.array([accuracy_m], dtype=float),
            self._declared_indices([declared], 1),
            fast=False,
        )
        return batch.row(0)

    def assign_many(
        self,
        lats: Any,
        lons: Any,
        accuracies: Any,
        declared: Sequence[str | None] | str | None = None,
        *,
        fast: bool = True,
    ) -> AssignmentBatch:
        """Assign many points at once (vectorised).

        ``accuracies`` (metres) may be a scalar.  ``declared`` is None, one
        code for every point, or one code (or None) per point.  ``fast=False``
        skips the raster and sends every point through the exact path (same
        results, slower).  The cyclic garbage collector is paused while the
        batch runs.
        """
        lats = np.asarray(lats, dtype=float).ravel()
        lons = np.asarray(lons, dtype=float).ravel()
        if lats.shape != lons.shape:
            raise ValueError("lats and lons differ in length")
        n = len(lats)
        accuracies = np.array(np.broadcast_to(np.asarray(accuracies, dtype=float).ravel(), (n,)))
        declared_index = self._declared_indices(declared, n)
        # The exact path allocates many short-lived geometry objects, none in
        # a reference cycle; in a process holding many objects each of them
        # could set off a full cyclic collection, which would then cost more
        # than the whole batch.  Collection is paused for the batch only.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._batch(lons, lats, accuracies, declared_index, fast=fast)
        finally:
            if was_enabled:
                gc.enable()

    # ---- internals ------------------------------------------------------------

    def _declared_indices(self, declared: Any, n: int) -> np.ndarray:
        if declared is None:
            return np.full(n, -1, dtype=np.int64)
        if isinstance(declared, str):
            return np.full(n, self._index_of.get(declared, -1), dtype=np.int64)
        if len(declared) != n:
            raise ValueError("declared must have one entry per point")
        return np.fromiter(map(self._index_of.get, declared, repeat(-1, n)), dtype=np.int64, count=n)

    def _batch(self, lon, lat, acc, decl, *, fast: bool) -> AssignmentBatch:
        n = len(lon)
        acc = np.where(np.isfinite(acc) & (acc > 0), acc, 0.0)
        owner = np.full(n, -1, dtype=np.int64)
        xp = xq = _EMPTY
        if fast and self._raster is not None and n:
            with np.errstate(invalid="ignore"):
                radius = degree_radius(lat, acc)
            owner, xp, xq = self._raster.settle(lon, lat, radius, acc)
        quick = owner >= 0
        slow = np.flatnonzero(~quick)

        # Points the raster settled: inside ``owner`` only, with the further
        # candidates (xp, xq) when other communes lie within the radius.
        ambiguous = np.zeros(n, dtype=bool)
        ambiguous[xp] = True
        declared_in = decl == owner
        declared_in[xp[xq == decl[xp]]] = True
        tie = ambiguous & declared_in
        commune = np.where(tie, decl, owner).astype(np.int32)
        method = np.where(tie, M_TIE_BREAK, M_CONTAINED).astype(np.int8)
        flags = np.where(ambiguous, BIT_AMBIGUOUS, 0).astype(np.uint8)
        flags[quick & (decl >= 0) & (decl != commune)] |= BIT_MISMATCH
        nearest = np.full(n, -1, dtype=np.int32)
        distance = np.full(n, np.nan)
        out_lat = lat.copy()
        out_lon = lon.copy()
        counts = quick.astype(np.int64) + np.bincount(xp, minlength=n)

        exact = self._exact(lon[slow], lat[slow], acc[slow], decl[slow])
        commune[slow] = exact.commune
        method[slow] = exact.method
        flags[slow] = exact.flags
        nearest[slow] = exact.nearest
        distance[slow] = exact.distance_m
        out_lat[slow] = exact.lat
        out_lon[slow] = exact.lon
        counts[slow] = np.bincount(exact.pair_point, minlength=len(slow))

        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        cand = np.empty(offsets[-1], dtype=np.int32)
        single = quick & ~ambiguous
        cand[offsets[:-1][single]] = owner[single]
        several = np.flatnonzero(quick & ambiguous)
        self._place(cand, offsets, np.concatenate([several, xp]), np.concatenate([owner[several], xq]))
        self._place(cand, offsets, slow[exact.pair_point], exact.pair_commune)
        return AssignmentBatch(
            self.codes,
            self._lookup,
            commune=commune,
            method=method,
            flags=flags,
            nearest=nearest,
            distance_m=distance,
            lat=out_lat,
            lon=out_lon,
            candidate_offsets=offsets,
            candidate_index=cand,
        )

    def _place(self, cand: np.ndarray, offsets: np.ndarray, point: np.ndarray, commune: np.ndarray) -> None:
        """Write (point, commune) pairs into the candidate lists, by code."""
        if not len(point):
            return
        order = np.lexsort((self._rank[commune], point))
        point, commune = point[order], commune[order]
        rank = np.arange(len(point)) - np.searchsorted(point, point)
        cand[offsets[point] + rank] = commune

    def _near_boundaries(self, lon, lat, reach_deg) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(point, polygon, metres) for every polygon with an edge in the box
        of half-side ``reach_deg`` around each point: the smallest distance
        in metres from the point to those edges, sorted by point, polygon.

        Metres come from the ellipsoid's metres per degree at the point,
        applied to the straight lon/lat edges (see the module docstring).
        """
        if not len(lon):
            return _EMPTY, _EMPTY, np.zeros(0)
        e = self._edges
        boxes = shapely.box(lon - reach_deg, lat - reach_deg, lon + reach_deg, lat + reach_deg)
        pi, ri = e.tree.query(boxes)
        # Point by point, runs in order: edges, hence polygons, come sorted.
        order = np.argsort(pi.astype(np.int64) << 32 | ri)
        pi, ri = pi[order], ri[order]
        run, edge = _expand(e.run_first[ri], e.run_len[ri])
        p = pi[run]
        kx, ky = metres_per_degree(lat)
        kx, ky, x, y = kx[p], ky[p], lon[p], lat[p]
        d2 = _segment_d2(
            0.0, 0.0, (e.ax[edge] - x) * kx, (e.ay[edge] - y) * ky, (e.bx[edge] - x) * kx, (e.by[edge] - y) * ky
        )
        key = p.astype(np.int64) << _POLY_BITS | e.poly[edge]
        if not len(key):
            return _EMPTY, _EMPTY, np.zeros(0)
        head = np.flatnonzero(_first_of_groups(key))
        key = key[head]
        return key >> _POLY_BITS, key & _POLY_MASK, np.sqrt(np.minimum.reduceat(d2, head))

    def _locate(self, lon, lat, acc) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Candidate pairs (point, commune, contained) for valid points.

        A pair is kept when the commune contains the point (lon/lat, boundary
        included) or lies within the point's accuracy radius in metres.
        Sorted by point, then code.
        """
        if not len(lon):
            return _EMPTY, _EMPTY, np.zeros(0, dtype=bool)
        pi, pj = self._tree.query(shapely.points(lon, lat))
        inside = shapely.intersects_xy(self._geoms[pj], lon[pi], lat[pi])
        inside_keys = pi[inside].astype(np.int64) << _POLY_BITS | pj[inside]
        some = np.flatnonzero(acc > 0)
        ni, nj, nd = self._near_boundaries(lon[some], lat[some], degree_radius(lat[some], acc[some]))
        ni = some[ni]
        close = nd <= acc[ni]
        near_keys = ni[close] << _POLY_BITS | nj[close]
        keys = _sorted_unique(np.concatenate([inside_keys, near_keys]))
        contained = np.isin(keys, inside_keys)
        point, commune = keys >> _POLY_BITS, keys & _POLY_MASK
        order = np.lexsort((self._rank[commune], point))
        return point[order], commune[order], contained[order]

    def _nearest(self, lon, lat, tol) -> tuple[np.ndarray, np.ndarray]:
        """Nearest commune and distance in metres, for valid points.

        Exact (local metric over every boundary near enough) wherever it can
        matter: within ``max(2 * tol, _EXACT_NEAREST_M)``.  Farther out it is
        the commune of the nearest boundary point found in degrees, with the
        geodesic distance to that point; the true nearest distance is then at
        most about 8 % smaller (the spread of metres per degree by direction
        at Vietnam's latitudes), far beyond any snapping tolerance.
        """
        if not len(lon):
            return _EMPTY, np.zeros(0)
        # Many bad points share coordinates ((0, 0) above all): once each.
        unique, inverse = np.unique(np.column_stack([lon, lat, tol]), axis=0, return_inverse=True)
        if len(unique) < len(lon):
            best, dist = self._nearest(unique[:, 0], unique[:, 1], unique[:, 2])
            inverse = inverse.ravel()
            return best[inverse], dist[inverse]
        n = len(lon)
        e = self._edges
        qi, qr = e.tree.query_nearest(shapely.points(lon, lat), all_matches=False)
        best_run = np.zeros(n, dtype=np.int64)
        best_run[qi] = qr
        # The nearest boundary point in degrees, on the nearest run of edges.
        run, edge = _expand(e.run_first[best_run], e.run_len[best_run])
        dx, dy = e.bx[edge] - e.ax[edge], e.by[edge] - e.ay[edge]
        length2 = dx * dx + dy * dy
        with np.errstate(divide="ignore", invalid="ignore"):
            t = ((lon[run] - e.ax[edge]) * dx + (lat[run] - e.ay[edge]) * dy) / length2
        t = np.clip(np.where(length2 > 0, t, 0.0), 0.0, 1.0)
        fx, fy = e.ax[edge] + t * dx, e.ay[edge] + t * dy
        d2 = (fx - lon[run]) ** 2 + (fy - lat[run]) ** 2
        order = np.lexsort((d2, run))
        pick = order[_first_of_groups(run[order])]
        best = e.poly[edge[pick]].astype(np.int64)
        # Geodesic distance to that point: exact for it, an upper bound for
        # the nearest distance.
        _, _, dist = _GEOD.inv(lon, lat, fx[pick], fy[pick])
        dist = np.asarray(dist, dtype=float)
        local = np.flatnonzero(dist <= np.maximum(2.0 * tol, _EXACT_NEAREST_M))
        pi, pj, pd = self._near_boundaries(lon[local], lat[local], degree_radius(lat[local], dist[local] + 1.0))
        order = np.lexsort((self._rank[pj], pd, pi))
        pi, pj, pd = pi[order], pj[order], pd[order]
        first = _first_of_groups(pi)
        best[local[pi[first]]] = pj[first]
        dist[local[pi[first]]] = pd[first]
        return best, dist

    def _depth(self, lon, lat, poly) -> np.ndarray:
        """Metres from each point to the boundary of its polygon, up to DEPTH_REACH_M."""
        depth = np.full(len(lon), DEPTH_REACH_M)
        pi, pj, pd = self._near_boundaries(lon, lat, degree_radius(lat, DEPTH_REACH_M))
        mine = pj == poly[pi]
        depth[pi[mine]] = np.minimum(pd[mine], DEPTH_REACH_M)
        return depth

    def _exact(self, lon, lat, acc, decl) -> _Exact:
        """The full rules for a set of points, through the STRtrees."""
        n = len(lon)
        finite = np.isfinite(lon) & np.isfinite(lat)
        with np.errstate(invalid="ignore"):
            lat_ok = finite & (np.abs(lat) <= 90)
            swap_ok = finite & (np.abs(lon) <= 90)

        # 1. The point as given.
        idx = np.flatnonzero(lat_ok)
        pi, pj, pin = self._locate(lon[idx], lat[idx], acc[idx])
        pi = idx[pi]
        contained = np.zeros(n, dtype=bool)
        contained[pi[pin]] = True

        # 2. Swapped, for points in no commune.
        sidx = np.flatnonzero(swap_ok & ~contained)
        si, sj, sin = self._locate(lat[sidx], lon[sidx], acc[sidx])
        si = sidx[si]
        swapped = np.zeros(n, dtype=bool)
        swapped[si[sin]] = True

        # 3. Nearest commune for points in none either way.
        outside = ~contained & ~swapped
        tol = np.maximum(acc, SNAP_TOLERANCE_M)
        nearest = np.full(n, -1, dtype=np.int64)
        distance = np.full(n, np.nan)
        oidx = np.flatnonzero(outside & lat_ok)
        nearest[oidx], distance[oidx] = self._nearest(lon[oidx], lat[oidx], tol[oidx])
        # A swap landing in a hole or sliver, when the point as given is far.
        with np.errstate(invalid="ignore"):
            far = outside & swap_ok & ~(distance <= tol)
        fidx = np.flatnonzero(far)
        fj, fd = self._nearest(lat[fidx], lon[fidx], tol[fidx])
        close = fd <= tol[fidx]
        fidx, fj, fd = fidx[close], fj[close], fd[close]
        swapped[fidx] = True
        nearest[fidx], distance[fidx] = fj, fd

        keep = ~swapped[pi]
        use = swapped[si]
        pi = np.concatenate([pi[keep], si[use]])
        pj = np.concatenate([pj[keep], sj[use]])
        pin = np.concatenate([pin[keep], sin[use]])
        order = np.lexsort((self._rank[pj], pi))
        pi, pj, pin = pi[order], pj[order], pin[order]
        out_lon = np.where(swapped, lat, lon)
        out_lat = np.where(swapped, lon, lat)

        # 4. Decide.
        n_cand = np.bincount(pi, minlength=n)
        n_in = np.bincount(pi[pin], minlength=n)
        ambiguous = n_cand > 1
        declared_in = np.zeros(n, dtype=bool)
        declared_in[pi[pj == decl[pi]]] = True
        tie = ambiguous & declared_in

        commune = np.full(n, -1, dtype=np.int64)
        method = np.full(n, M_UNASSIGNED, dtype=np.int8)
        # The containing commune: deepest inside, then smallest code.
        ci, cj = pi[pin], pj[pin]
        depth = np.zeros(len(ci))
        multi = np.flatnonzero(n_in[ci] > 1)
        if len(multi):
            depth[multi] = self._depth(out_lon[ci[multi]], out_lat[ci[multi]], cj[multi])
        order = np.lexsort((self._rank[cj], -depth, ci))
        ci, cj = ci[order], cj[order]
        first = _first_of_groups(ci)
        inside = n_in > 0
        commune[ci[first]] = cj[first]
        method[inside] = M_CONTAINED

        out = ~inside
        with np.errstate(invalid="ignore"):
            snap = out & (nearest >= 0) & (distance <= tol)
        commune[snap] = nearest[snap]
        method[snap] = M_NEAREST
        fallback = out & ~snap & (decl >= 0)
        commune[fallback] = decl[fallback]
        method[fallback] = M_DECLARED
        commune[tie] = decl[tie]
        method[tie] = M_TIE_BREAK

        flags = np.zeros(n, dtype=np.uint8)
        flags[out] |= BIT_OUTSIDE
        flags[swapped] |= BIT_SWAPPED
        flags[ambiguous] |= BIT_AMBIGUOUS
        flags[(decl >= 0) & (commune != decl)] |= BIT_MISMATCH
        return _Exact(
            commune=commune,
            method=method,
            flags=flags,
            nearest=np.where(out, nearest, -1),
            distance_m=np.where(out, distance, np.nan),
            lat=out_lat,
            lon=out_lon,
            pair_point=pi,
            pair_commune=pj,
        )
