"""The exact path of commune assignment: the full rules through STRtrees and prepared polygons.

Every point the raster (:mod:`tracker.geo.raster`) cannot settle beyond
doubt comes here, and :meth:`tracker.geo.assign.CommuneIndex.assign` sends
every point here.  The rules are those of :mod:`tracker.geo.assign`:
containment, candidates within the accuracy radius, the deepest of several
containing communes, swapped coordinates, the nearest commune of an outside
point, the declared commune as tie-break and fallback.

For an outside point farther than 2 km (and twice its snapping tolerance)
from every commune, ``nearest`` is the commune of the nearest boundary point
found in degrees and ``distance_m`` the geodesic distance (pyproj.Geod,
WGS 84) to that point: exact for it, and at most about 8 % above the true
nearest distance (the spread of metres per degree by direction at Vietnam's
latitudes).  Such a point is never snapped.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from tracker.geo.arrays import EMPTY, expand, first_of_groups, segment_d2, sorted_unique
from tracker.geo.edges import Edges
from tracker.geo.metric import GEOD, degree_radius, metres_per_degree
from tracker.geo.results import (
    BIT_AMBIGUOUS,
    BIT_MISMATCH,
    BIT_OUTSIDE,
    BIT_SWAPPED,
    M_CONTAINED,
    M_DECLARED,
    M_NEAREST,
    M_TIE_BREAK,
    M_UNASSIGNED,
)

#: An outside point within this many metres of a commune (or within its
#: accuracy radius, if larger) is assigned to that commune.
SNAP_TOLERANCE_M = 250.0
#: How far depth inside overlapping communes is measured.
DEPTH_REACH_M = 200.0
# Outside points closer than this (or than twice their snapping tolerance)
# to a commune get the exact nearest commune and distance.
EXACT_NEAREST_M = 2_000.0
POLY_BITS = 24  # (point, polygon) pairs are packed as point << 24 | polygon
POLY_MASK = (1 << POLY_BITS) - 1


@dataclass
class Exact:
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


class ExactPath:
    """The exact rules over one set of polygons (``rank`` orders them by code)."""

    def __init__(self, geoms: np.ndarray, edges: Edges, rank: np.ndarray):
        self.geoms = geoms
        self.tree = shapely.STRtree(geoms)
        self.edges = edges
        self.rank = rank

    def near_boundaries(self, lon, lat, reach_deg) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(point, polygon, metres) for every polygon with an edge in the box
        of half-side ``reach_deg`` around each point: the smallest distance
        in metres from the point to those edges, sorted by point, polygon.

        Metres come from the ellipsoid's metres per degree at the point,
        applied to the straight lon/lat edges (see :mod:`tracker.geo.metric`).
        """
        if not len(lon):
            return EMPTY, EMPTY, np.zeros(0)
        e = self.edges
        boxes = shapely.box(lon - reach_deg, lat - reach_deg, lon + reach_deg, lat + reach_deg)
        pi, ri = e.tree.query(boxes)
        # Point by point, runs in order: edges, hence polygons, come sorted.
        order = np.argsort(pi.astype(np.int64) << 32 | ri)
        pi, ri = pi[order], ri[order]
        run, edge = expand(e.run_first[ri], e.run_len[ri])
        p = pi[run]
        kx, ky = metres_per_degree(lat)
        kx, ky, x, y = kx[p], ky[p], lon[p], lat[p]
        d2 = segment_d2(
            0.0, 0.0, (e.ax[edge] - x) * kx, (e.ay[edge] - y) * ky, (e.bx[edge] - x) * kx, (e.by[edge] - y) * ky
        )
        key = p.astype(np.int64) << POLY_BITS | e.poly[edge]
        if not len(key):
            return EMPTY, EMPTY, np.zeros(0)
        head = np.flatnonzero(first_of_groups(key))
        key = key[head]
        return key >> POLY_BITS, key & POLY_MASK, np.sqrt(np.minimum.reduceat(d2, head))

    def locate(self, lon, lat, acc) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Candidate pairs (point, commune, contained) for valid points.

        A pair is kept when the commune contains the point (lon/lat, boundary
        included) or lies within the point's accuracy radius in metres.
        Sorted by point, then code.
        """
        if not len(lon):
            return EMPTY, EMPTY, np.zeros(0, dtype=bool)
        pi, pj = self.tree.query(shapely.points(lon, lat))
        inside = shapely.intersects_xy(self.geoms[pj], lon[pi], lat[pi])
        inside_keys = pi[inside].astype(np.int64) << POLY_BITS | pj[inside]
        some = np.flatnonzero(acc > 0)
        ni, nj, nd = self.near_boundaries(lon[some], lat[some], degree_radius(lat[some], acc[some]))
        ni = some[ni]
        close = nd <= acc[ni]
        near_keys = ni[close] << POLY_BITS | nj[close]
        keys = sorted_unique(np.concatenate([inside_keys, near_keys]))
        contained = np.isin(keys, inside_keys)
        point, commune = keys >> POLY_BITS, keys & POLY_MASK
        order = np.lexsort((self.rank[commune], point))
        return point[order], commune[order], contained[order]

    def nearest(self, lon, lat, tol) -> tuple[np.ndarray, np.ndarray]:
        """Nearest commune and distance in metres, for valid points.

        Exact (local metric over every boundary near enough) wherever it can
        matter: within ``max(2 * tol, EXACT_NEAREST_M)``.  Farther out it is
        the commune of the nearest boundary point found in degrees, with the
        geodesic distance to that point; the true nearest distance is then at
        most about 8 % smaller (the spread of metres per degree by direction
        at Vietnam's latitudes), far beyond any snapping tolerance.
        """
        if not len(lon):
            return EMPTY, np.zeros(0)
        # Many bad points share coordinates ((0, 0) above all): once each.
        unique, inverse = np.unique(np.column_stack([lon, lat, tol]), axis=0, return_inverse=True)
        if len(unique) < len(lon):
            best, dist = self.nearest(unique[:, 0], unique[:, 1], unique[:, 2])
            inverse = inverse.ravel()
            return best[inverse], dist[inverse]
        n = len(lon)
        e = self.edges
        qi, qr = e.tree.query_nearest(shapely.points(lon, lat), all_matches=False)
        best_run = np.zeros(n, dtype=np.int64)
        best_run[qi] = qr
        # The nearest boundary point in degrees, on the nearest run of edges.
        run, edge = expand(e.run_first[best_run], e.run_len[best_run])
        dx, dy = e.bx[edge] - e.ax[edge], e.by[edge] - e.ay[edge]
        length2 = dx * dx + dy * dy
        with np.errstate(divide="ignore", invalid="ignore"):
            t = ((lon[run] - e.ax[edge]) * dx + (lat[run] - e.ay[edge]) * dy) / length2
        t = np.clip(np.where(length2 > 0, t, 0.0), 0.0, 1.0)
        fx, fy = e.ax[edge] + t * dx, e.ay[edge] + t * dy
        d2 = (fx - lon[run]) ** 2 + (fy - lat[run]) ** 2
        order = np.lexsort((d2, run))
        pick = order[first_of_groups(run[order])]
        best = e.poly[edge[pick]].astype(np.int64)
        # Geodesic distance to that point: exact for it, an upper bound for
        # the nearest distance.
        _, _, dist = GEOD.inv(lon, lat, fx[pick], fy[pick])
        dist = np.asarray(dist, dtype=float)
        local = np.flatnonzero(dist <= np.maximum(2.0 * tol, EXACT_NEAREST_M))
        pi, pj, pd = self.near_boundaries(lon[local], lat[local], degree_radius(lat[local], dist[local] + 1.0))
        order = np.lexsort((self.rank[pj], pd, pi))
        pi, pj, pd = pi[order], pj[order], pd[order]
        first = first_of_groups(pi)
        best[local[pi[first]]] = pj[first]
        dist[local[pi[first]]] = pd[first]
        return best, dist

    def depth(self, lon, lat, poly) -> np.ndarray:
        """Metres from each point to the boundary of its polygon, up to DEPTH_REACH_M."""
        depth = np.full(len(lon), DEPTH_REACH_M)
        pi, pj, pd = self.near_boundaries(lon, lat, degree_radius(lat, DEPTH_REACH_M))
        mine = pj == poly[pi]
        depth[pi[mine]] = np.minimum(pd[mine], DEPTH_REACH_M)
        return depth

    def run(self, lon, lat, acc, decl) -> Exact:
        """The full rules for a set of points, through the STRtrees."""
        n = len(lon)
        finite = np.isfinite(lon) & np.isfinite(lat)
        with np.errstate(invalid="ignore"):
            lat_ok = finite & (np.abs(lat) <= 90)
            swap_ok = finite & (np.abs(lon) <= 90)

        # 1. The point as given.
        idx = np.flatnonzero(lat_ok)
        pi, pj, pin = self.locate(lon[idx], lat[idx], acc[idx])
        pi = idx[pi]
        contained = np.zeros(n, dtype=bool)
        contained[pi[pin]] = True

        # 2. Swapped, for points in no commune.
        sidx = np.flatnonzero(swap_ok & ~contained)
        si, sj, sin = self.locate(lat[sidx], lon[sidx], acc[sidx])
        si = sidx[si]
        swapped = np.zeros(n, dtype=bool)
        swapped[si[sin]] = True

        # 3. Nearest commune for points in none either way.
        outside = ~contained & ~swapped
        tol = np.maximum(acc, SNAP_TOLERANCE_M)
        nearest = np.full(n, -1, dtype=np.int64)
        distance = np.full(n, np.nan)
        oidx = np.flatnonzero(outside & lat_ok)
        nearest[oidx], distance[oidx] = self.nearest(lon[oidx], lat[oidx], tol[oidx])
        # A swap landing in a hole or sliver, when the point as given is far.
        with np.errstate(invalid="ignore"):
            far = outside & swap_ok & ~(distance <= tol)
        fidx = np.flatnonzero(far)
        fj, fd = self.nearest(lat[fidx], lon[fidx], tol[fidx])
        close = fd <= tol[fidx]
        fidx, fj, fd = fidx[close], fj[close], fd[close]
        swapped[fidx] = True
        nearest[fidx], distance[fidx] = fj, fd

        keep = ~swapped[pi]
        use = swapped[si]
        pi = np.concatenate([pi[keep], si[use]])
        pj = np.concatenate([pj[keep], sj[use]])
        pin = np.concatenate([pin[keep], sin[use]])
        order = np.lexsort((self.rank[pj], pi))
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
            depth[multi] = self.depth(out_lon[ci[multi]], out_lat[ci[multi]], cj[multi])
        order = np.lexsort((self.rank[cj], -depth, ci))
        ci, cj = ci[order], cj[order]
        first = first_of_groups(ci)
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
        return Exact(
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
