"""The demo's building calendar, pinned to Sơn La's reported figures (pure, seeded).

Each house gets stage dates from the dry-season campaign curve (slow in the
cool months, a sprint through March to mid-April, nearly all by the May 19
deadline, a short tail into the rainy season). Then :func:`calibrate` moves
the fewest dates needed for the counts the province reported (DESIGN.md,
"Making the demo real") to come out exactly: 2,337 houses under way by the
end of the first quarter and 2,553 supported on 16 April 2025, out of the
3,058 that were all finished. A smaller demo keeps the same shares.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import numpy as np

# Completion calendar, share of the houses that get finished (dates, cumulative).
COMPLETION_CURVE = (
    (date(2025, 1, 25), 0.0), (date(2025, 2, 28), 0.12), (date(2025, 3, 15), 0.28),
    (date(2025, 3, 31), 0.55), (date(2025, 4, 16), 0.90), (date(2025, 5, 19), 0.995),
    (date(2025, 6, 30), 1.0),
)
FINAL_HOUSES = 3_058
Q1_END, Q1_UNDER_WAY = date(2025, 3, 31), 2_337
REPORT_DAY, REPORT_SUPPORTED = date(2025, 4, 16), 2_553


def timeline(support: str, rng: np.random.Generator) -> dict[str, date]:
    """Stage dates of one house that gets finished: completion from the curve, building time counted back."""
    completed = _completion_day(rng)
    building = _days(30, 65, rng) if support == "new_build" else _days(10, 30, rng)
    earliest = _day_between(date(2025, 1, 2), date(2025, 1, 12), rng)
    started = max(completed - building, earliest)
    approved = started - _days(5, 25, rng)
    stages = {"surveyed": approved - _days(15, 60, rng), "approved": approved, "started": started,
              "completed": completed}
    if rng.random() < 0.65:
        stages["handed_over"] = completed + _days(2, 21, rng)
    return stages


def calibrate(timelines: list[dict[str, date]]) -> None:
    """Move dates in place so the reported counts come out exactly (scaled to the number of houses).

    The houses nearest each cut-off are the ones moved across it; stages
    stay in order. Every house here is finished, so the houses completed by
    the end of March (about 55 %) are all among those under way by then.
    """
    share = len(timelines) / FINAL_HOUSES
    _pin(timelines, "completed", REPORT_DAY, round(REPORT_SUPPORTED * share))
    for stages in timelines:
        _in_order(stages)
    _pin(timelines, "started", Q1_END, round(Q1_UNDER_WAY * share), first=lambda s: s["completed"] <= Q1_END)
    for stages in timelines:
        _in_order(stages)


def _pin(timelines: list[dict[str, date]], stage: str, day: date, count: int,
         first: Callable[[dict[str, date]], bool] | None = None) -> None:
    """Exactly ``count`` houses reach ``stage`` by ``day``: the earliest (``first`` ones before all others)."""
    order = sorted(range(len(timelines)),
                   key=lambda i: (not first(timelines[i]) if first else False, timelines[i][stage], i))
    after = day + timedelta(days=1)
    for rank, i in enumerate(order):
        stages = timelines[i]
        stages[stage] = min(stages[stage], day) if rank < count else max(stages[stage], after)


def _in_order(stages: dict[str, date]) -> None:
    stages["started"] = min(stages["started"], stages["completed"])
    stages["approved"] = min(stages["approved"], stages["started"])
    stages["surveyed"] = min(stages["surveyed"], stages["approved"])
    if "handed_over" in stages:
        stages["handed_over"] = max(stages["handed_over"], stages["completed"])


def clip_to(today: date, stages: dict[str, date]) -> dict[str, date]:
    """The stages reached by ``today`` (a survey in the future is pulled back to today)."""
    kept = {stage: day for stage, day in stages.items() if day <= today}
    return kept or {"surveyed": min(stages["surveyed"], today)}


def _completion_day(rng: np.random.Generator) -> date:
    """Inverse of the completion curve at a uniform draw."""
    shares = [share for _, share in COMPLETION_CURVE]
    ordinals = [day.toordinal() for day, _ in COMPLETION_CURVE]
    return date.fromordinal(int(np.interp(rng.random(), shares, ordinals)))


def _day_between(first: date, last: date, rng: np.random.Generator) -> date:
    return first + timedelta(days=int(rng.integers((last - first).days + 1)))


def _days(low: int, high: int, rng: np.random.Generator) -> timedelta:
    return timedelta(days=int(rng.integers(low, high + 1)))


OFFSET = "+07:00"


def stamp(day: date, rng: np.random.Generator, afternoon: bool = False) -> str:
    """A working-hours time on ``day``, ISO 8601 with the Vietnam offset.

    GPS fixes are taken in the morning visit and records saved in the
    afternoon, so a record is never saved before its own fix on the same day.
    """
    first, last = (13 * 60, 17 * 60 + 30) if afternoon else (7 * 60, 12 * 60)
    minute = int(rng.integers(first, last))
    return f"{day.isoformat()}T{minute // 60:02d}:{minute % 60:02d}:00{OFFSET}"
