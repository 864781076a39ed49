"""Small numpy helpers of the assignment cores: distances to segments, sorted groups, runs."""
from __future__ import annotations

import numpy as np

#: An empty index array.
EMPTY = np.zeros(0, dtype=np.int64)


def segment_d2(px, py, ax, ay, bx, by) -> np.ndarray:
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


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort-based: faster than hashing for big int arrays)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def first_of_groups(keys: np.ndarray) -> np.ndarray:
    """Mask of the first element of each run of equal values in a sorted array."""
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return first


def expand(first: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For runs ``first[i] .. first[i] + count[i] - 1``: (run index, position) pairs."""
    total = int(count.sum())
    run = np.repeat(np.arange(len(count)), count)
    start = np.cumsum(count) - count
    return run, first[run] + (np.arange(total) - start[run])
