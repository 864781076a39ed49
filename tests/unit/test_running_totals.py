"""What a change adds to the running totals: each anchor of the span takes the deltas dated before it."""
from __future__ import annotations

import random
from datetime import date, timedelta

from tracker.progress.cumulative import anchors_between, spread
from tracker.progress.tally_events import ALWAYS


def _by_hand(span: tuple[date, date], groups: list[list[tuple[date, list[int]]]]) -> set[tuple[int, date, tuple]]:
    out = set()
    for g, deltas in enumerate(groups):
        for anchor in anchors_between(*span):
            total = [sum(values[i] for day, values in deltas if day < anchor) for i in range(3)]
            if any(total):
                out.add((g, anchor, tuple(total)))
    return out


def test_each_anchor_takes_the_deltas_dated_before_it() -> None:
    rng = random.Random(5)
    span = (date(2025, 1, 1), date(2025, 7, 25))
    days = [ALWAYS, date(2024, 11, 3), date(2025, 1, 1), date(2025, 3, 12), date(2025, 3, 13), date(2025, 7, 25),
            date(2025, 9, 1)] + [date(2025, 1, 1) + timedelta(days=rng.randrange(220)) for _ in range(30)]
    groups = [[(rng.choice(days), [rng.randint(-2, 3), 0, rng.choice((0, 60_000_000))])
               for _ in range(rng.randrange(0, 6))] for _ in range(600)]  # more groups than are summed at once
    found = [(g, anchor, tuple(values)) for g, anchor, values in spread(span, groups)]
    assert len(found) == len(set(found)) and set(found) == _by_hand(span, groups)
    assert any(g >= 256 for g, _, _ in found)


def test_a_delta_on_or_after_the_last_anchor_reaches_none_and_always_reaches_all() -> None:
    span = (date(2025, 3, 1), date(2025, 3, 25))
    assert list(spread(span, [[(date(2025, 3, 25), [1, 1, 1])], []])) == []
    assert [(g, a) for g, a, _ in spread(span, [[(ALWAYS, [1, 0, 0])]])] == [
        (0, date(2025, 3, d)) for d in (1, 7, 13, 19, 25)]
    assert [a for _, a, _ in spread(span, [[(date(2025, 3, 13), [0, 2, 0])]])] == [date(2025, 3, 19), date(2025, 3, 25)]
