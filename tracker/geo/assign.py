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

Distances are metres, never degrees (:mod:`tracker.geo.metric`).

The work is split along the algorithm's own seams:

* :mod:`tracker.geo.results`: the answers (:class:`Assignment`, the columnar
  :class:`AssignmentBatch`), flags and methods;
* :mod:`tracker.geo.metric`: metres per degree on WGS 84, search radii;
* :mod:`tracker.geo.edges`: the polygons' edges under an STRtree;
* :mod:`tracker.geo.raster` (built by :mod:`tracker.geo.rasterise`): the fast
  path, which settles the great majority of points in numpy alone;
* :mod:`tracker.geo.exact`: the exact path, the rules above through the
  STRtrees and prepared polygons, for every point the raster leaves, and the
  only path :meth:`CommuneIndex.assign` uses.  Both give identical results;
* this module: :class:`CommuneIndex`, which builds both once per boundary set
  and runs a batch through them.
"""
from __future__ import annotations

import gc
import math
from collections.abc import Sequence
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import shapely.geometry

from tracker.geo.arrays import EMPTY
from tracker.geo.edges import Edges
from tracker.geo.exact import POLY_MASK, SNAP_TOLERANCE_M, ExactPath
from tracker.geo.metric import M_PER_DEG_LAT_MIN, degree_radius, metres_per_degree
from tracker.geo.raster import Raster
from tracker.geo.results import (
    BIT_AMBIGUOUS,
    BIT_MISMATCH,
    BIT_OUTSIDE,
    BIT_SWAPPED,
    FLAG_AMBIGUOUS,
    FLAG_MISMATCH,
    FLAG_OUTSIDE,
    FLAG_SWAPPED,
    FLAGS,
    M_CONTAINED,
    M_TIE_BREAK,
    METHODS,
    Assignment,
    AssignmentBatch,
    flag_names,
)
from tracker.geo.sources import read_features

__all__ = [
    "BIT_AMBIGUOUS", "BIT_MISMATCH", "BIT_OUTSIDE", "BIT_SWAPPED", "DEFAULT_CELL_M", "DEFAULT_MAX_CELLS",
    "FLAGS", "FLAG_AMBIGUOUS", "FLAG_MISMATCH", "FLAG_OUTSIDE", "FLAG_SWAPPED", "METHODS", "SNAP_TOLERANCE_M",
    "Assignment", "AssignmentBatch", "CommuneIndex", "degree_radius", "flag_names", "metres_per_degree",
]

#: Default raster cell size for the fast path, in metres (north-south).
DEFAULT_CELL_M = 100.0
#: Upper bound on raster grid cells; the cell grows when the index is larger.
DEFAULT_MAX_CELLS = 20_000_000


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
        if len(codes) > POLY_MASK:
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
        edges = Edges(geoms)
        self._exact = ExactPath(geoms, edges, self._rank)

        self._raster: Raster | None = None
        if cell_m:
            step = cell_m / M_PER_DEG_LAT_MIN
            cells = ((bounds[2] - bounds[0]) / step + 4) * ((bounds[3] - bounds[1]) / step + 4)
            if cells > max_cells:
                step *= math.sqrt(cells / max_cells)
            try:
                self._raster = Raster(edges, bounds, step)
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
        xp = xq = EMPTY
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

        exact = self._exact.run(lon[slow], lat[slow], acc[slow], decl[slow])
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
