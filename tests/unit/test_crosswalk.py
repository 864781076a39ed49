"""The crosswalk core: shares of area, slivers, official lists, whole-number carries."""
from __future__ import annotations

import pytest
from shapely.geometry import box

from tracker.geo import crosswalk as cw


def _old_new():
    # Old: A (0..2 × 0..1) split evenly between new X and Y; B (2..3) wholly in Y,
    # except a 1 % strip that pokes into Z; C far away.
    old = [("A", box(0, 0, 2, 1)), ("B", box(2, 0, 3, 1)), ("C", box(10, 10, 11, 11))]
    new = [("X", box(0, 0, 1, 1)), ("Y", box(1, 0, 2.99, 1)), ("Z", box(2.99, 0, 4, 1))]
    return old, new


def test_shares_of_area_slivers_dropped_and_unmatched_named() -> None:
    old, new = _old_new()
    result = cw.compute(old, new, tolerance=0.05)
    links = {(link.old, link.new): round(link.share, 6) for link in result.links}
    assert links == {("A", "X"): 0.5, ("A", "Y"): 0.5, ("B", "Y"): 1.0}
    assert result.slivers == 1  # B's 1 % in Z
    assert result.unmatched == ["C"]
    assert {old: sum(link.share for link in links_) for old, links_ in result.by_old().items()} == \
        pytest.approx({"A": 1.0, "B": 1.0})


def test_without_tolerance_the_sliver_is_kept() -> None:
    old, new = _old_new()
    result = cw.compute(old, new, tolerance=0.0)
    b = {link.new: link.share for link in result.by_old()["B"]}
    assert b == pytest.approx({"Y": 0.99, "Z": 0.01})


def test_a_unit_made_only_of_slivers_keeps_its_largest_piece() -> None:
    old = [("A", box(0, 0, 1, 1))]
    new = [("X", box(0, 0, 0.03, 1)), ("Y", box(0.03, 0, 0.07, 1))]
    result = cw.compute(old, new, tolerance=0.5)
    assert [(link.new, link.share) for link in result.links] == [("Y", 1.0)]


def test_area_in_km2_at_the_units_latitude() -> None:
    result = cw.compute([("A", box(104, 21, 104.1, 21.1))], [("X", box(103, 20, 105, 22))])
    assert result.links[0].area_km2 == pytest.approx(11.132 * 11.057 * 0.9336, rel=0.01)


def test_official_list_checked_row_by_row() -> None:
    rows = [
        {"old_code": "A", "new_code": "X", "share": "0.6"},
        {"old_code": "A", "new_code": "Y", "share": "0.3"},  # A sums to 0.9
        {"old_code": "Q", "new_code": "X", "share": ""},  # unknown old code
        {"old_code": "B", "new_code": "W"},  # unknown new code
        {"old_code": "B", "new_code": "Y", "share": "2"},  # share out of range
        {"old_code": "C", "new_code": "X"},
        {"old_code": "C", "new_code": "X", "share": "0.5"},  # listed twice
    ]
    with pytest.raises(cw.CrosswalkError) as caught:
        cw.check_official(rows, {"A", "B", "C"}, {"X", "Y", "Z"})
    problems = caught.value.problems
    assert "row 4: old code Q is not in the old boundary set" in problems
    assert "row 5: new code W is not in the new boundary set" in problems
    assert any(p.startswith("row 6: share must be a number above 0") for p in problems)
    assert "row 8: C → X is listed twice" in problems
    assert "old code A: shares sum to 0.9, not 1" in problems
    assert any(p.startswith("old code B is split") for p in problems)


def test_official_list_wins_where_it_speaks() -> None:
    old, new = _old_new()
    computed = cw.compute(old, new)
    official = cw.check_official([{"old_code": "A", "new_code": "X", "share": 1}], {"A", "B", "C"}, {"X", "Y", "Z"})
    merged = cw.merge_official(computed, official)
    assert [(link.old, link.new, link.share, link.source) for link in merged.links] == [
        ("A", "X", 1.0, "official"), ("B", "Y", 1.0, "geometry")]
    assert merged.links[0].area_km2 > 0  # the computed area of that piece is kept


def test_household_check_counts_pairs_the_crosswalk_does_not_link() -> None:
    old, new = _old_new()
    check = cw.check_households(cw.compute(old, new), {("A", "X"): 7, ("A", "Y"): 3, ("B", "Z"): 2})
    assert (check.households, check.agreeing) == (12, 10)
    assert check.disagreeing == [("B", "Z", 2)]
    assert check.agreement == pytest.approx(10 / 12)


@pytest.mark.parametrize(("total", "weights", "expected"), [
    (10, [1, 1, 1], [4, 3, 3]),
    (7, [0.5, 0.25, 0.25], [3, 2, 2]),
    (0, [1, 2], [0, 0]),
    (5, [0, 0], [3, 2]),
    (100, [0.333, 0.333, 0.334], [33, 33, 34]),
])
def test_largest_remainder_is_whole_and_exact(total: int, weights: list[float], expected: list[int]) -> None:
    assert cw.largest_remainder(total, weights) == expected


def test_carry_preserves_every_old_units_figures_exactly() -> None:
    old, new = _old_new()
    result = cw.compute(old[:2], new)
    weights, basis = cw.carry_weights(result, {("A", "X"): 2, ("A", "Y"): 1})
    assert basis == {"A": "households", "B": "whole"}
    carried = cw.carry({"A": [7, 1, 450_000_001], "B": [3, 0, 180_000_000]}, weights)
    assert carried == {"X": [5, 1, 300_000_001], "Y": [5, 0, 330_000_000]}
    assert [sum(v[i] for v in carried.values()) for i in range(3)] == [10, 1, 630_000_001]


def test_a_split_unit_without_households_goes_by_area() -> None:
    old, new = _old_new()
    weights, basis = cw.carry_weights(cw.compute(old[:1], new))
    assert basis == {"A": "area"}
    assert cw.carry({"A": [5]}, weights) == {"X": [3], "Y": [2]}


def test_carry_refuses_units_with_no_overlap() -> None:
    old, new = _old_new()
    result = cw.compute(old, new)
    weights, _ = cw.carry_weights(result)
    with pytest.raises(cw.CrosswalkError) as caught:
        cw.carry({"A": [1], "C": [2], "D": [1]}, weights)
    assert caught.value.problems == ["unit C overlaps no unit of the other map",
                                     "unit D overlaps no unit of the other map"]


def test_pieces_across_a_new_provincial_border_are_dropped() -> None:
    # Old provinces P (A, B) and Q (C) merged into new province N1; R's D into N2. B pokes 20 % into N2's unit Z.
    old = [("A", box(0, 0, 1, 1)), ("B", box(1, 0, 2, 1)), ("C", box(0, 1, 2, 2)), ("D", box(2.2, 0, 3, 2))]
    new = [("X", box(0, 0, 1.8, 2)), ("Z", box(1.8, 0, 3, 2))]
    result = cw.compute(old, new, tolerance=0.05)
    assert {link.new for link in result.by_old()["B"]} == {"X", "Z"}
    kept = cw.within_parents(result, {"A": "P", "B": "P", "C": "Q", "D": "R"}, {"X": "N1", "Z": "N2"})
    assert [(link.new, link.share) for link in kept.by_old()["B"]] == [("X", 1.0)]
    assert kept.slivers == result.slivers + 2  # and C's 10 % in Z
    assert [(link.new, link.share) for link in kept.by_old()["D"]] == [("Z", 1.0)]
