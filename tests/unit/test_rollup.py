"""``Rollup.updated``: recounting some communes gives what counting all of them again gives."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from tracker.progress.rollup import Rollup
from tracker.progress.tallies import AT_RISK, BUDGET, FUNDS, SLOT, Tally, Unit, empty_tally

WHEN = SimpleNamespace(as_of=date(2025, 4, 16), deadline=date(2025, 5, 19))
UNITS = {
    "p": Unit("p", "Tỉnh", "province", None),
    "d1": Unit("d1", "Huyện 1", "district", "p"),
    "d2": Unit("d2", "Huyện 2", "district", "p"),
    "c1": Unit("c1", "Xã 1", "commune", "d1"),
    "c2": Unit("c2", "Xã 2", "commune", "d1"),
    "c3": Unit("c3", "Xã 3", "commune", "d2"),
    "c4": Unit("c4", "Xã 4", "commune", "d2"),
}


def tally(planned: int, households: int, completed: int, in_window: int = 0, repair: int = 0) -> Tally:
    t = empty_tally()
    t[SLOT["planned"]], t[SLOT["planned"] + 1] = planned, repair
    t[SLOT["households"]], t[SLOT["completed"]], t[SLOT["in_window"]] = households, completed, in_window
    t[BUDGET] = planned * 60_000_000
    t[FUNDS] = completed * 60_000_000
    return t


def everything(rollup: Rollup) -> dict[str, object]:
    return {
        level: rollup.level_rows(level) for level in ("commune", "district", "province")
    } | {"total": rollup.total_row(), "unassigned": rollup.unassigned}


def test_recounted_communes_give_the_same_rows_and_sums_as_a_full_count() -> None:
    before = {"c1": tally(10, 8, 2, 2), "c2": tally(5, 5, 5), "c3": tally(4, 1, 0), None: tally(0, 2, 1)}
    after = {"c1": tally(10, 9, 3, 3), "c3": tally(4, 0, 0), "c4": tally(0, 1, 1, 1), None: tally(0, 1, 0)}
    old = Rollup(WHEN, UNITS, before)
    old_figures = everything(old)  # district and province sums built before the update, so they are updated too
    new = old.updated({"c1", "c2", "c3", "c4", None}, after)
    # c2 lost everything (no households, no plan): it drops out, as a full count would leave it out.
    assert everything(new) == everything(Rollup(WHEN, UNITS, after))
    assert everything(old) == old_figures  # the shared roll-up is left as it was
    assert [row["code"] for row in new.level_rows("commune")] == ["c1", "c3", "c4"]


def test_at_risk_communes_are_recounted_in_the_groups() -> None:
    slow = tally(10, 10, 0)  # nothing finished in the window: at risk
    done = tally(10, 10, 10)
    rollup = Rollup(WHEN, UNITS, {"c1": slow, "c2": slow, "c3": done})
    assert rollup.totals[AT_RISK] == 2
    assert {r["code"]: r["communes_at_risk"] for r in rollup.level_rows("district")} == {"d1": 2, "d2": 0}
    caught_up = rollup.updated({"c2"}, {"c2": done})
    assert {r["code"]: r["communes_at_risk"] for r in caught_up.level_rows("district")} == {"d1": 1, "d2": 0}
    assert caught_up.total_row()["communes_at_risk"] == 1


def test_a_commune_outside_the_units_still_counts_in_the_total() -> None:
    rollup = Rollup(WHEN, UNITS, {"c1": tally(2, 2, 1)}).updated({"zz"}, {"zz": tally(0, 3, 3)})
    assert rollup.total_row()["households"] == 5
    assert [r["code"] for r in rollup.level_rows("district")] == ["d1"]
    assert rollup.rows["zz"]["name"] is None
