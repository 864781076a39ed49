"""Assigning household revisions to communes under every boundary set."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import orjson
from flask import current_app

from sync.vocabulary import TZ
from tracker.boundaries.models import BoundarySet
from tracker.boundaries.service import boundary_sets, commune_index
from tracker.crosswalks.declared import judged, read_declared
from tracker.geo.assign import FLAG_AMBIGUOUS, FLAG_MISMATCH, FLAG_OUTSIDE, FLAG_SWAPPED, Assignment
from tracker.geo.results import BIT_MISMATCH, FLAGS, METHODS, AssignmentBatch, flag_names

# What a manager must look at: a point near a boundary, outside every commune, swapped, or in another
# commune than the one the officer declared; and a fix too coarse to tell the commune.
REVIEW_FLAGS = {FLAG_AMBIGUOUS, FLAG_OUTSIDE, FLAG_SWAPPED, FLAG_MISMATCH}
LOW_ACCURACY_M = 100.0


def assign_points(
    boundary_set: BoundarySet,
    lats: Sequence[float],
    lons: Sequence[float],
    accuracies: Sequence[float],
    declared: Sequence[str | None],
    maps: Sequence[int | None] | None = None,
) -> list[Assignment]:
    """Vectorised assignment of many points under one set.

    ``maps`` holds the id of the set each declared code belongs to
    (:func:`declared_maps`); a code of another map is read through the
    crosswalk (:mod:`tracker.crosswalks.declared`), so it is judged against
    the map it belongs to.
    """
    index = commune_index(boundary_set)
    own, readings = read_declared(boundary_set, declared, maps)
    batch = index.assign_many(
        np.asarray(lats, dtype=float), np.asarray(lons, dtype=float),
        np.asarray(accuracies, dtype=float), own,
    )
    return judged([batch.row(i) for i in range(len(batch))], readings)


def capture_day(value: str | datetime | None) -> date | None:
    """The day (Asia/Ho_Chi_Minh) of a record's capture time, None when it has none or it cannot be read."""
    if value is None:
        return None
    try:
        instant = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return instant.astimezone(TZ).date() if instant.tzinfo is not None else instant.date()


def declared_maps(
    names: Sequence[str | None], captured: Sequence[str | datetime | None], sets: Sequence[BoundarySet] | None = None
) -> list[int | None]:
    """The set each declared code belongs to: the one the client named, else the map in force on the capture day."""
    sets = list(boundary_sets() if sets is None else sets)
    by_name = {s.name: s.id for s in sets}
    in_force = _in_force_by_day(sets)
    on_day: dict[date | None, int | None] = {}
    days: dict[str | datetime | None, int | None] = {}
    out: list[int | None] = []
    for name, when in zip(names, captured):
        if name is not None and name in by_name:
            out.append(by_name[name])
            continue
        if when not in days:
            day = capture_day(when)
            if day not in on_day:
                on_day[day] = in_force(day) if day is not None else None
            days[when] = on_day[day]
        out.append(days[when])
    return out


def _in_force_by_day(sets: list[BoundarySet]) -> Callable[[date], int | None]:
    """``set_in_force`` for many days: what precedes every dated set is asked once."""
    from tracker.households.service import set_in_force

    before_all = set_in_force(date.min, sets)
    fallback = before_all.id if before_all is not None else None
    dated = sorted((s.in_force_from, s.id) for s in sets if s.in_force_from is not None)
    if not dated or current_app.config.get("DEFAULT_BOUNDARY_SET"):
        return lambda day: fallback

    def on(day: date) -> int | None:
        started = [pair for pair in dated if pair[0] <= day]
        return max(started)[1] if started else fallback
    return on


def assignment_row(
    revision_id: int, set_id: int, result: Assignment, accuracy_m: float | None = None
) -> dict[str, Any]:
    """The assignment row of one revision under one set; a fix coarser than ``LOW_ACCURACY_M`` waits for review."""
    details = result.to_dict()
    coarse = accuracy_m is not None and accuracy_m > LOW_ACCURACY_M
    if coarse:
        details["low_accuracy_m"] = accuracy_m
    return {
        "revision_id": revision_id,
        "boundary_set_id": set_id,
        "commune_code": result.commune,
        "flag": result.flag,
        "needs_review": coarse or bool(REVIEW_FLAGS.intersection(result.flags)),
        "details": details,
    }


def moved_from(details: dict[str, Any] | None) -> list[str]:
    """The communes a review moved this assignment away from (older decisions kept only the last)."""
    details = details or {}
    earlier = list(details.get("moved_from") or ())
    previous = (details.get("review") or {}).get("previous_commune")
    return earlier + [previous] if previous and previous not in earlier else earlier


def assign_records(
    records: Sequence[dict[str, Any]], sets: Sequence[BoundarySet] | None = None
) -> dict[int, list[Assignment]]:
    """Each set's assignments for canonical records, keyed by set id (every set unless given)."""
    lats = [r["location"]["lat"] for r in records]
    lons = [r["location"]["lon"] for r in records]
    accs = [r["location"]["accuracy_m"] for r in records]
    declared = [r.get("declared_commune") for r in records]
    every = boundary_sets() if sets is None else list(sets)
    maps = declared_maps([r.get("declared_set") for r in records], [r.get("captured_at") for r in records], every)
    return {s.id: assign_points(s, lats, lons, accs, declared, maps) for s in (every if sets is None else sets)}


def batch_rows(
    batch: AssignmentBatch, revision_ids: Sequence[int], set_id: int, accuracies: Sequence[float | None],
    readings: Sequence[tuple[str, ...] | None],
) -> list[tuple[int, int, str | None, str | None, bool, str]]:
    """The assignment rows of a whole batch as plain tuples, their details already JSON text.

    Row for row the same as :func:`assignment_row` of ``judged`` results
    (declared codes read across maps clear a mismatch the same way), built
    from the batch's columns without an object per point: re-assigning a
    national set is hundreds of thousands of rows.
    """
    lookup = [orjson.dumps(code).decode() for code in batch.codes_index] + ["null"]
    codes = batch.codes_index + (None,)
    bits = batch.flags.astype(np.int64)
    for i, reading in enumerate(readings):
        if reading and bits[i] & BIT_MISMATCH and codes[batch.commune[i]] in reading:
            bits[i] &= ~BIT_MISMATCH
    flag_sets = [flag_names(b) for b in range(1 << len(FLAGS))]
    primary = [names[0] if names else None for names in flag_sets]
    flags_json = [orjson.dumps(list(names)).decode() for names in flag_sets]
    flag_json = [orjson.dumps(name).decode() for name in primary]
    review_bits = sum(1 << FLAGS.index(f) for f in REVIEW_FLAGS)
    methods = [orjson.dumps(m).decode() for m in METHODS]
    offsets, candidates = batch.candidate_offsets.tolist(), batch.candidate_index.tolist()
    finite = math.isfinite
    distances = ["null" if d != d else repr(round(d, 1)) for d in batch.distance_m.tolist()]  # NaN: not outside
    lats = [repr(x) if finite(x) else "null" for x in batch.lat.tolist()]
    lons = [repr(x) if finite(x) else "null" for x in batch.lon.tolist()]
    rows = []
    for i, (revision_id, b, commune, method, near, accuracy) in enumerate(zip(
        revision_ids, bits.tolist(), batch.commune.tolist(), batch.method.tolist(), batch.nearest.tolist(),
        accuracies,
    )):
        lo, hi = offsets[i], offsets[i + 1]
        listed = lookup[candidates[lo]] if hi - lo == 1 else ",".join(lookup[c] for c in candidates[lo:hi])
        coarse = accuracy is not None and accuracy > LOW_ACCURACY_M
        text = (
            f'{{"commune":{lookup[commune]},"method":{methods[method]},"flag":{flag_json[b]},'
            f'"flags":{flags_json[b]},"candidates":[{listed}],"nearest":{lookup[near]},'
            f'"distance_m":{distances[i]},"lat":{lats[i]},"lon":{lons[i]}'
            + (f',"low_accuracy_m":{_number(accuracy)}}}' if coarse else "}")
        )
        rows.append((revision_id, set_id, codes[commune], primary[b], coarse or bool(b & review_bits), text))
    return rows


def _number(value: float) -> str:
    """A float as JSON (NaN and infinities are null)."""
    return repr(float(value)) if math.isfinite(value) else "null"
