"""The fast path of commune assignment: a raster that settles most points in numpy alone.

:meth:`tracker.geo.assign.CommuneIndex.assign_many` first looks every point
up here.  The raster settles the great majority: points inside exactly one
commune, not within a hair of an edge, and whose other communes are
certainly beyond or certainly within the radius.  The rest (points on or
very near boundaries, overlaps, large radii, outside, swapped) take the
exact path (:mod:`tracker.geo.exact`).  Both give identical results.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from tracker.geo.arrays import expand, segment_d2, sorted_unique
from tracker.geo.edges import Edges
from tracker.geo.metric import M_PER_DEG_MAX
from tracker.geo.rasterise import centre_owner, clearance, touching

# Raster clearance is counted in whole edge-free cell rings up to this many.
MAX_RINGS = 4


class Raster:
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

    def __init__(self, edges: Edges, bounds: Sequence[float], step: float, max_rings: int = MAX_RINGS):
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

        centre = centre_owner(self.ax, self.ay, self.bx, self.by, self.edge_poly, self.nrows, self.ncols)
        pair_cell, pair_edge = touching(self.ax, self.ay, self.bx, self.by, self.nrows, self.ncols, self.EPS)
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
        near = segment_d2(cx[maybe], cy[maybe], ax[maybe], ay[maybe], bx[maybe], by[maybe]) <= eps * eps
        bad = sorted_unique(pair_cell[maybe[near]])
        del ax, ay, bx, by
        anchor[np.searchsorted(touched, bad)] = -2
        self.list_anchor = anchor.astype(np.int32)
        del pair_cell, pair_edge, cx, cy, near

        free = centre >= 0
        free.ravel()[touched] = False
        ring_count = clearance(free, max_rings).astype(np.int32)
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
        point, edge = expand(first, count)
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
            p, e = expand(nfirst, self.list_offsets[nlid + 1] - nfirst)
            more_p.append(sub[p])
            more_e.append(e)
        if len(more_p) > 1:
            point = np.concatenate(more_p)
            edge = np.concatenate(more_e)
        edge = self.list_edges[edge]
        px, py = gx[point], gy[point]
        ax, ay, bx, by = self.ax[edge], self.ay[edge], self.bx[edge], self.by[edge]
        poly = self.edge_poly[edge]
        d2 = segment_d2(px, py, ax, ay, bx, by)
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
        metres = np.sqrt(d2[within]) * (self.step * M_PER_DEG_MAX * (1 + 1e-3))
        sure = metres <= radius_m[point[within]]
        key = point[within].astype(np.int64) << self.OWNER_BITS | poly[within]
        sure_keys = sorted_unique(key[sure])
        unsure = key[~sure]
        ok[(unsure[~np.isin(unsure, sure_keys)] >> self.OWNER_BITS)] = False
        result = np.where(ok, owner, -1)
        extra_point = sure_keys >> self.OWNER_BITS
        keep = ok[extra_point]
        return result, extra_point[keep], (sure_keys & ((1 << self.OWNER_BITS) - 1))[keep]
