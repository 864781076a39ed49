"""The pace arithmetic of progress reports, on plain numbers."""
from __future__ import annotations

from datetime import date

import pytest

from tracker.progress.pace import Finish, finish, pace, percent, reached_on, status_on, window_start

AS_OF = date(2025, 4, 16)
DEADLINE = date(2025, 5, 19)


def test_percent_is_truncated_never_rounded_up() -> None:
    assert percent(2553, 2893) == 88.24  # 88.2475… as the province reported it
    assert percent(2999, 3000) == 99.96
    assert percent(29999, 30000) == 99.99  # not 100.00 while one house is left
    assert percent(3058, 3058) == 100.0
    assert percent(10, 5) == 200.0


def test_percent_without_plan_is_none() -> None:
    assert percent(5, 0) is None
    assert percent(0, 0) is None


def test_required_pace_is_remaining_over_days_left() -> None:
    result = pace(planned=2893, supported=2553, supported_in_window=140, as_of=AS_OF, deadline=DEADLINE)
    assert result.remaining == 340
    assert result.days_left == 33
    assert result.required_per_day == round(340 / 33, 2) == 10.3
    assert result.achieved_per_day == 10.0
    assert result.projected_finish == date(2025, 5, 20)  # 34 days at 10 a day
    assert result.at_risk is True


def test_fast_enough_commune_is_not_at_risk() -> None:
    result = pace(planned=100, supported=60, supported_in_window=28, as_of=AS_OF, deadline=DEADLINE)
    assert result.achieved_per_day == 2.0
    assert result.projected_finish == date(2025, 5, 6)
    assert result.at_risk is False


def test_projection_landing_on_the_deadline_is_not_at_risk() -> None:
    result = pace(planned=33, supported=0, supported_in_window=14, as_of=AS_OF, deadline=DEADLINE)
    assert result.projected_finish == DEADLINE
    assert result.at_risk is False


def test_no_recent_completions_means_no_projection_and_at_risk() -> None:
    result = pace(planned=10, supported=2, supported_in_window=0, as_of=AS_OF, deadline=DEADLINE)
    assert result.projected_finish is None
    assert result.achieved_per_day == 0.0
    assert result.at_risk is True


def test_a_projection_past_the_last_day_a_date_holds_is_none_and_at_risk() -> None:
    """A national plan with one house finished in the window: 334,000 x 14 days is past the year 9999."""
    from tracker.progress.pace import paces

    result = pace(planned=334_000, supported=0, supported_in_window=1, as_of=AS_OF, deadline=DEADLINE)
    assert (result.projected_finish, result.at_risk, result.remaining) == (None, True, 334_000)
    near_the_end = pace(planned=10, supported=0, supported_in_window=1, as_of=date(9999, 12, 1), deadline=None)
    assert (near_the_end.projected_finish, near_the_end.at_risk) == (None, True)
    many = paces([334_000, 10], [0, 0], [1, 1], AS_OF, DEADLINE)
    assert many.projected_finish == [None, date(2025, 9, 3)] and many.at_risk == [True, True]  # 10 x 14 days on


def test_finished_plan() -> None:
    result = pace(planned=10, supported=12, supported_in_window=3, as_of=AS_OF, deadline=DEADLINE)
    assert result.remaining == 0
    assert result.required_per_day == 0.0
    assert result.projected_finish == AS_OF
    assert result.at_risk is False
    assert result.percent_complete == 120.0


def test_deadline_passed_with_houses_left() -> None:
    late = date(2025, 6, 1)
    result = pace(planned=10, supported=8, supported_in_window=7, as_of=late, deadline=DEADLINE)
    assert result.days_left == -13
    assert result.required_per_day is None
    assert result.projected_finish == date(2025, 6, 5)
    assert result.at_risk is True


def test_deadline_today_with_houses_left_has_no_required_pace() -> None:
    result = pace(planned=10, supported=8, supported_in_window=7, as_of=DEADLINE, deadline=DEADLINE)
    assert result.days_left == 0
    assert result.required_per_day is None


def test_household_without_plan_is_never_at_risk() -> None:
    result = pace(planned=0, supported=3, supported_in_window=1, as_of=AS_OF, deadline=None)
    assert result.percent_complete is None
    assert result.days_left is None
    assert result.at_risk is False


def test_plan_without_deadline_and_houses_left_is_at_risk_but_has_no_required_pace() -> None:
    result = pace(planned=5, supported=1, supported_in_window=1, as_of=AS_OF, deadline=None)
    assert result.required_per_day is None
    assert result.at_risk is True


def test_window_is_fourteen_days_inclusive() -> None:
    assert window_start(AS_OF) == date(2025, 4, 3)
    assert (AS_OF - window_start(AS_OF)).days + 1 == 14


def test_bad_window_is_refused() -> None:
    with pytest.raises(ValueError):
        pace(1, 0, 0, AS_OF, DEADLINE, window_days=0)


DEADLINE = date(2025, 5, 19)


def test_finish_on_time_and_late() -> None:
    assert finish(2, 0, date(2025, 5, 10), date(2025, 6, 1), DEADLINE) == Finish(date(2025, 5, 10), 0, None)
    assert finish(2, 0, date(2025, 5, 25), date(2025, 6, 1), DEADLINE) == Finish(date(2025, 5, 25), 6, None)
    assert finish(2, 0, DEADLINE, date(2025, 6, 1), DEADLINE) == Finish(DEADLINE, 0, None)


def test_overdue_counts_from_the_day_after_the_deadline() -> None:
    assert finish(4, 3, None, DEADLINE, DEADLINE) == Finish(None, None, None)
    assert finish(4, 3, None, date(2025, 5, 20), DEADLINE) == Finish(None, None, 1)
    assert finish(4, 3, None, date(2025, 6, 1), DEADLINE) == Finish(None, None, 13)


def test_no_plan_or_no_deadline_gives_no_finish_figures() -> None:
    assert finish(0, 0, None, date(2025, 6, 1), DEADLINE) == Finish(None, None, None)
    assert finish(4, 3, None, date(2025, 6, 1), None) == Finish(None, None, None)
    assert finish(4, 0, date(2025, 5, 1), date(2025, 6, 1), None) == Finish(date(2025, 5, 1), None, None)


def test_many_paces_at_once_equal_each_pace() -> None:
    """paces() gives, unit for unit, exactly what pace() gives: every rounding and date included."""
    import random

    from tracker.progress.pace import paces

    rng = random.Random(7)
    planned = [rng.choice([0, 0, 1, 3, 7, 40, 999, 2893, 334_000]) for _ in range(3000)]
    supported = [max(0, p - rng.randint(-5, p + 3)) for p in planned]
    in_window = [rng.choice([0, 0, 1, 2, 3, 13, 14, 15, 140, 1001]) for _ in planned]
    for as_of, deadline in ((AS_OF, DEADLINE), (AS_OF, None), (DEADLINE, DEADLINE), (date(2025, 6, 1), DEADLINE),
                            (AS_OF, date(2025, 4, 17)), (date(9999, 11, 1), None)):
        many = paces(planned, supported, in_window, as_of, deadline)
        for i, (p, s, w) in enumerate(zip(planned, supported, in_window)):
            one = pace(p, s, w, as_of, deadline)
            assert one == (many.percent_complete[i], many.remaining[i], many.days_left, many.required_per_day[i],
                           many.achieved_per_day[i], many.projected_finish[i], many.at_risk[i]), (p, s, w, as_of)


def test_no_units_give_no_paces() -> None:
    from tracker.progress.pace import paces

    assert paces([], [], [], AS_OF, DEADLINE).remaining == []


def test_the_finish_day_is_the_first_day_the_running_count_reached_the_plan() -> None:
    deltas = {date(2025, 5, 10): 1, date(2025, 5, 2): 1, date(2025, 5, 25): 1}  # in any order
    assert reached_on(deltas, 2, date(2025, 6, 1)) == date(2025, 5, 10)
    assert reached_on(deltas, 3, date(2025, 6, 1)) == date(2025, 5, 25)
    assert reached_on(deltas, 4, date(2025, 6, 1)) is None
    assert reached_on(deltas, 3, date(2025, 5, 24)) is None, "no day after as_of"
    assert reached_on(deltas, 2, date(2025, 5, 10)) == date(2025, 5, 10), "as_of itself counts"


def test_a_withdrawal_after_the_finish_leaves_the_day_it_first_reached_the_plan() -> None:
    # Two completed by May 10, one withdrawn on May 12, a third completed on May 20.
    deltas = {date(2025, 5, 3): 1, date(2025, 5, 10): 1, date(2025, 5, 12): -1, date(2025, 5, 20): 1}
    assert reached_on(deltas, 2, date(2025, 6, 1)) == date(2025, 5, 10)
    # One counted on May 1 and withdrawn on May 2: the count dips back, and reaches 2 on May 9.
    dips = {date(2025, 5, 1): 1, date(2025, 5, 2): -1, date(2025, 5, 3): 1, date(2025, 5, 9): 1}
    assert reached_on(dips, 2, date(2025, 6, 1)) == date(2025, 5, 9)
    assert reached_on({date(2025, 5, 1): 2, date(2025, 5, 3): -2}, 2, date(2025, 6, 1)) == date(2025, 5, 1)


def test_nothing_planned_has_no_finish_day() -> None:
    assert reached_on({date(2025, 5, 1): 1}, 0, date(2025, 6, 1)) is None
    assert reached_on({}, 1, date(2025, 6, 1)) is None


D = date(2025, 4, 16)


@pytest.mark.parametrize(("dates", "expected"), [
    ((None,) * 6, "surveyed"),  # no date at all: a record as surveyed
    ((None, None, None, None, None, date(2025, 5, 1)), "surveyed"),  # withdrawn later, nothing else dated
    ((date(2025, 1, 2), date(2025, 2, 1), date(2025, 3, 1), None, None, None), "started"),
    ((date(2025, 1, 2), date(2025, 2, 1), date(2025, 5, 1), None, None, None), "approved"),  # started after D
    ((None, None, date(2025, 5, 1), None, None, None), None),  # its first stage still to come: not yet entered
    ((date(2025, 1, 2), None, None, D, date(2025, 4, 20), None), "completed"),  # on D itself
    ((date(2025, 1, 2), None, None, D, None, D), "withdrawn"),  # withdrawn on D wins over every stage
    ((None, None, None, None, date(2025, 3, 3), None), "handed_over"),  # a missing earlier stage is no matter
])
def test_status_on_takes_the_last_stage_reached_by_the_day(dates: tuple, expected: str | None) -> None:
    assert status_on(dates, D) == expected
