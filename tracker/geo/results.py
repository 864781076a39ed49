"""What assignment answers: one :class:`Assignment` per point, or a columnar :class:`AssignmentBatch`.

A batch keeps numpy columns (commune indices, method codes, flag bitmasks)
and builds Python objects only on request.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

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

