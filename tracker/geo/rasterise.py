"""Building the fast path's raster: which cells each edge touches, which polygon holds each cell centre.

Everything here is in cell units (degrees / cell size from the grid origin);
:class:`tracker.geo.raster.Raster` calls these once, when an index is built.
"""
from __future__ import annotations

import numpy as np

from tracker.geo.arrays import sorted_unique


def touching(
    ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray, nrows: int, ncols: int, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """(cell, edge) pairs: every cell each edge touches, sorted, unique.

    Every edge is sampled at most one cell apart in each axis, so each of
    its points is within half a cell (per axis) of a sample: the cells
    meeting a one-cell box around each sample include every cell the
    edge touches.  Of those, the cells (grown by ``eps``) that the edge
    really meets are kept: a box meets a segment when their bounding boxes
    overlap and the box's corners are not all strictly on one side of the
    segment's line.
    """
    count = np.ceil(np.maximum(np.abs(bx - ax), np.abs(by - ay))).astype(np.int64) + 1
    edge = np.repeat(np.arange(len(ax)), count)
    first = np.cumsum(count) - count
    t = (np.arange(len(edge)) - first[edge]) / np.maximum(count - 1, 1)[edge]
    px = ax[edge] + t * (bx - ax)[edge]
    py = ay[edge] + t * (by - ay)[edge]
    del t
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
            rows = np.clip(row[meets], 0, nrows - 1)
            cols = np.clip(col[meets], 0, ncols - 1)
            keys.append((rows * ncols + cols) * len(ax) + e[meets])
    key = sorted_unique(np.concatenate(keys))
    return key // len(ax), key % len(ax)


def centre_owner(
    ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray, edge_poly: np.ndarray, nrows: int, ncols: int
) -> np.ndarray:
    """Per cell centre: the polygon containing it when exactly one does,
    -1 when none does, -2 when several do.

    Even-odd scanline fill: for each polygon and each row of cell centres,
    the crossings of its rings with the row, sorted, pair up into spans.
    Raises ValueError when the crossings do not pair (invalid polygons).
    """
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
    poly = edge_poly[edge]
    del edge, slope
    order = np.lexsort((x, row, poly))
    x, row, poly = x[order], row[order], poly[order]
    if len(x) % 2 or np.any(row[0::2] != row[1::2]) or np.any(poly[0::2] != poly[1::2]):
        raise ValueError("polygon rings do not close: cannot rasterise")
    # Cells whose centre c + 0.5 lies in [x_in, x_out).
    c0 = np.clip(np.ceil(x[0::2] - 0.5), 0, ncols).astype(np.int64)
    c1 = np.clip(np.ceil(x[1::2] - 0.5), 0, ncols).astype(np.int64)
    row, poly = row[0::2], poly[0::2]
    keep = c1 > c0
    c0, c1, row, poly = c0[keep], c1[keep], row[keep], poly[keep]

    owner = np.full((nrows, ncols), -1, dtype=np.int32)
    width = ncols + 1
    by_row = np.argsort(row, kind="stable")
    c0, c1, row, poly = c0[by_row], c1[by_row], row[by_row], poly[by_row]
    band = max(1, 4_000_000 // width)
    for top in range(0, nrows, band):
        lo, hi = np.searchsorted(row, [top, top + band])
        if lo == hi:
            continue
        rows = min(band, nrows - top)
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


def clearance(free: np.ndarray, max_rings: int) -> np.ndarray:
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
