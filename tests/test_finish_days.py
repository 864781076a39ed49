"""Finish days from the kept tallies equal those counted from the revisions, on random histories.

Six communes in four districts of two provinces; pushes, edits, withdrawals
(some after completion, some dated before it), review moves and
re-assignments go through the API and the ledger (the histories of
:mod:`tests.test_kept_tallies`). After every step, for several dates, both
sources of completed day changes must give the same changes and the same
finish days for every commune, district, province and the total, whatever
the plan; and a report's finish figures must be the same read either way.
"""
from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import test_kept_tallies as histories
from tests.helpers import feature, square, write_collection
from tests.progress_builders import plan, record, store
from tests.sync_support import make_user, push, results, token
from tracker.boundaries.service import import_boundary_set
from tracker.dbtypes import utcnow
from tracker.extensions import db
from tracker.progress import completions, kept
from tracker.progress.finish import with_finish
from tracker.progress.pace import reached_on
from tracker.progress.service import progress_report, resolve, set_units
from tracker.progress.timeline import finish_days

# code: (district, province, lon, lat of the square's corner); the first two are the histories' communes.
COMMUNES = {
    "90001": ("Huyện A", "Tỉnh Thử", 104.0, 21.0), "90002": ("Huyện A", "Tỉnh Thử", 104.1, 21.0),
    "90003": ("Huyện B", "Tỉnh Thử", 104.2, 21.0), "90004": ("Huyện C", "Tỉnh Khác", 104.0, 21.1),
    "90005": ("Huyện C", "Tỉnh Khác", 104.1, 21.1), "90006": ("Huyện D", "Tỉnh Khác", 104.2, 21.1),
}
# Inside each commune, on the 90001/90002 border with a poor fix (review), and far outside (no commune).
PLACES = [{"lat": lat + 0.05, "lon": lon + 0.05, "accuracy_m": 8.0} for _, _, lon, lat in COMMUNES.values()] + [
    {"lat": 21.05, "lon": 104.1005, "accuracy_m": 400.0}, {"lat": 23.9, "lon": 108.9, "accuracy_m": 8.0}]
KEPT_TEST_HISTORY = histories._history
PLAN = {"90001": (1, 1), "90002": (1, 0), "90003": (1, 0), "90004": (2, 0), "90005": (1, 0), "90006": (1, 1)}


def _load(tmp_path: Path) -> None:
    features = [feature(code, f"Xã {code}", square(lon, lat, 0.1), district=district, province=province)
                for code, (district, province, lon, lat) in COMMUNES.items()]
    import_boundary_set("test", write_collection(tmp_path / "six.geojson", features))
    db.session.commit()


def _history(rng: random.Random) -> tuple[str, dict[str, str]]:
    """The kept tallies test's histories, and besides them completed houses withdrawn later or on an earlier day."""
    status, dates = KEPT_TEST_HISTORY(rng)
    if status in ("completed", "handed_over") and rng.random() < 0.35:
        last = max(date.fromisoformat(d) for d in dates.values())
        dates["withdrawn"] = (last + timedelta(days=rng.randrange(-40, 60))).isoformat()
        status = "withdrawn"
    return status, dates


def _units() -> dict[tuple[str, str], list[str] | None]:
    """Every unit of the set with its communes, and the total (every commune)."""
    units = set_units(resolve(date(2025, 1, 1), utcnow(), "test").boundary_set)
    groups: dict[tuple[str, str], list[str]] = {}
    for code, unit in units.items():
        if unit.level == "commune":
            district = units[unit.parent_code or ""]
            for key in (("commune", code), ("district", district.code), ("province", district.parent_code or "")):
                groups.setdefault(key, []).append(code)
    return {**groups, ("total", "total"): None}


def _assert_same(step: str) -> None:
    db.session.expire_all()
    units = _units()
    for as_of in histories.DATES:
        ctx = resolve(as_of, utcnow(), "test")
        assert kept.covers(ctx), step
        from_kept = completions.kept_completions(ctx, units)
        counted = completions.counted_completions(ctx, units)
        # The finish day for every plan up to one past the highest count reached, from each source's changes.
        for key in units:
            top = max(_running(counted[key]) + _running(from_kept[key]), default=0) + 1
            days = [reached_on(from_kept[key], plan, as_of) for plan in range(1, top + 1)]
            assert days == [reached_on(counted[key], plan, as_of) for plan in range(1, top + 1)], (step, as_of, key)
            assert days[-1] is None
        assert from_kept == counted, f"{step}, as of {as_of}"
        # Read otherwise: every commune's rows at once, or one group per statement.
        for name, value in (("MANY_COMMUNES", 0), ("PARTS_AT_ONCE", 1)):
            with pytest.MonkeyPatch.context() as patched:
                patched.setattr(completions, name, value)
                assert completions.kept_completions(ctx, units) == counted, f"{step}, as of {as_of}, {name}"


def _running(deltas: dict[date, int]) -> list[int]:
    total, out = 0, []
    for day in sorted(deltas):
        total += deltas[day]
        out.append(total)
    return out


def _report_rows(as_of: date) -> tuple[Any, list[dict[str, Any]]]:
    ctx = resolve(as_of, utcnow(), "test", "Thử 2025")
    rows = [row for level in ("commune", "district", "province") for row in progress_report(ctx, level).rows]
    return ctx, rows + [progress_report(ctx, "commune").totals]


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_kept_and_counted_finish_days_agree_on_random_histories(client, tmp_path: Path, seed: int,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(histories, "PLACES", PLACES)
    monkeypatch.setattr(histories, "_history", _history)
    _load(tmp_path)
    plan(PLAN, effective=date(2025, 1, 1), set_name="test")
    make_user("officer", "commune_officer", list(COMMUNES))
    make_user("boss", "manager")
    officer, boss = token(client, "officer"), token(client, "boss", "desk")
    rng = random.Random(seed)
    results(push(client, officer, [histories._record(rng) for _ in range(16)]))
    done = ["push"]
    for number in range(24):
        done.append(histories._step(client, rng, boss, officer))
        _assert_same(f"step {number} ({done[-1]}) of {done}")
    assert {"push", "edit", "withdraw", "move", "reassign"} <= set(done), done
    # The reports' own finish figures: from the kept tallies, then with every figure counted from the revisions.
    finished = set()
    for as_of in (date(2025, 3, 15), date(2025, 5, 1), date(2025, 8, 1)):
        ctx, rows = _report_rows(as_of)
        from_kept = with_finish(ctx, rows)
        with monkeypatch.context() as patched:
            patched.setattr(kept, "covers", lambda _: False)
            counted_ctx, counted_rows = _report_rows(as_of)
            assert counted_rows == rows
            assert with_finish(counted_ctx, counted_rows) == from_kept, as_of
        finished |= {(r["level"], r["finished_on"] is not None) for r in from_kept}
    assert {("commune", True), ("commune", False), ("district", True)} <= finished, "some units finish, some do not"


def test_the_kept_tallies_are_read_when_they_cover_the_report_and_the_revisions_otherwise(
        client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _load(tmp_path)
    plan({"90001": (1, 0)}, effective=date(2025, 1, 1), set_name="test")
    store([record("90001", lat=21.05, lon=104.05)], received_at=utcnow() - timedelta(hours=2))
    read = []
    for name in ("kept_completions", "counted_completions"):
        real = getattr(completions, name)
        monkeypatch.setattr(f"tracker.progress.timeline.{name}",
                            lambda ctx, units, name=name, real=real: read.append(name) or real(ctx, units))
    now = resolve(date(2025, 6, 1), utcnow(), "test", "Thử 2025")
    past = resolve(date(2025, 6, 1), utcnow() - timedelta(hours=1), "test", "Thử 2025")
    assert kept.covers(now) and not kept.covers(past)
    for ctx in (now, past):
        assert finish_days(ctx, progress_report(ctx, "commune").rows) == {("commune", "90001"): date(2025, 4, 10)}
    assert read == ["kept_completions", "counted_completions"]
