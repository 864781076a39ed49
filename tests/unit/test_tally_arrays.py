"""The tallies counted in arrays equal the per-revision deltas, on random revisions."""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

import numpy as np
import pytest

from schemas.household import FUNDING_SOURCES
from tracker.progress.tally_arrays import tally_sums
from tracker.progress.tally_events import VALUES, deltas, month_of

STAGES = ("surveyed", "approved", "started", "completed", "handed_over", "withdrawn")


def _revision(rng: random.Random) -> dict[str, object]:
    start = date(2025, 1, 1) + timedelta(days=rng.randrange(200))
    columns: dict[str, object] = {}
    day = start
    for stage in STAGES:
        if rng.random() < 0.5:
            columns[f"{stage}_on"] = day
        day += timedelta(days=rng.randrange(-3, 30))  # now and then a withdrawal before the last stage
    for source in FUNDING_SOURCES:
        columns[f"fund_{source}"] = rng.choice((0, 0, 30_000_000, 1_234_567))
    return columns


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_arrays_equal_the_deltas_one_by_one(seed: int) -> None:
    rng = random.Random(seed)
    revisions = [(rng.randrange(5), rng.random() < 0.3, _revision(rng)) for _ in range(800)]
    expected: dict[tuple[str, int, date], list[int]] = defaultdict(lambda: [0] * len(VALUES))
    for group, review, columns in revisions:
        for day, values in deltas(columns, review):
            for key in (("d", group, day), ("m", group, month_of(day))):
                expected[key] = [a + b for a, b in zip(expected[key], values)]
    group = np.array([g for g, _, _ in revisions])
    review = np.array([r for _, r, _ in revisions])
    dates = {f"{s}_on": np.array([c.get(f"{s}_on") for _, _, c in revisions], dtype="datetime64[D]") for s in STAGES}
    funds = np.array([[c[f"fund_{s}"] for s in FUNDING_SOURCES] for _, _, c in revisions], dtype=np.int64)
    got = {}
    for grain, summed in zip(("d", "m"), tally_sums(group, review, dates, funds)):
        for g, day, values in zip(summed.group.tolist(), summed.day, summed.values.tolist()):
            got[(grain, g, day)] = values
    assert got == {k: v for k, v in expected.items() if any(v)}
