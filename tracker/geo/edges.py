"""The boundary edges of a set of polygons, numbered polygon by polygon, in runs under an STRtree.

Both assignment paths read them: the raster to know which cells an edge
touches, the exact path to measure distances to the edges near a point.
"""
from __future__ import annotations

import numpy as np
import shapely

# Boundary edges are indexed in runs of this many.
CHUNK = 16


class Edges:
    """Every polygon edge, in degrees, numbered polygon by polygon, with an
    STRtree over runs of up to ``CHUNK`` consecutive edges of a ring."""

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
        # Runs: consecutive edges of one ring, at most CHUNK of them.
        n = len(ring)
        ring_start = np.flatnonzero(np.r_[True, ring[1:] != ring[:-1]])
        pos = np.arange(n) - np.repeat(ring_start, np.diff(np.r_[ring_start, n]))
        new_run = (pos % CHUNK) == 0
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
