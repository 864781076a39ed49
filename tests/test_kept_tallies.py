"""Commune tallies kept by the ledger equal a full count, on random histories.

Pushes of new households, edits, withdrawals, review moves and
re-assignments go through the API and the ledger; after every step the kept
tallies, summed for several dates, must equal the count from the revisions,
commune by commune.
"""
from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from tests.sync_support import COMMUNE_1, COMMUNE_2, load_communes, make_user, push, results, token
from tracker.boundaries.service import get_set
from tracker.dbtypes import utcnow
from tracker.extensions import db
from tracker.households.ledger import reassign_set
from tracker.households.models import HouseholdRevision
from tracker.progress import day_sums, kept
from tracker.progress.models import CommuneTally, TallySnapshot
from tracker.progress.service import counted_tallies, resolve

STAGES = ("surveyed", "approved", "started", "completed", "handed_over")
PLACES = [  # inside commune 1, inside 2, on their border with a poor fix (review), far outside (no commune)
    {"lat": 21.05, "lon": 104.05, "accuracy_m": 8.0}, {"lat": 21.05, "lon": 104.15, "accuracy_m": 8.0},
    {"lat": 21.05, "lon": 104.1005, "accuracy_m": 400.0}, {"lat": 23.9, "lon": 108.9, "accuracy_m": 8.0},
]
# From before the first month with a delta (month rows summed) to after the last (the last running total and
# the days since); in between, the nearer running total and the days since or until it (anchors on the 1st, 7th,
# 13th, 19th and 25th): an anchor day, the day before one, days nearer the anchor before or after, the 3rd (as
# far from either anchor: the one before is taken), the 26th of February (the same, four days from the 25th to
# the 1st) and the 28th of a 31-day month (seven days from the 25th: the one after is nearer).
DATES = [date(2024, 12, 31)] + [date(2025, 1, 1) + timedelta(days=d) for d in (0, 20, 40, 75, 100, 130, 170, 240)] + [
    date(2025, 2, 26), date(2025, 3, 3), date(2025, 3, 19), date(2025, 3, 28), date(2025, 3, 31), date(2026, 2, 14)]


def _history(rng: random.Random) -> tuple[str, dict[str, str]]:
    """A status and its dates: stage by stage from survey or approval, maybe withdrawn at the end."""
    status = rng.choice(STAGES + ("withdrawn",))
    last = rng.randrange(3) if status == "withdrawn" else STAGES.index(status)
    day = date(2025, 1, 2) + timedelta(days=rng.randrange(120))
    dates = {}
    for stage in STAGES[min(rng.randrange(2), last):last + 1]:
        dates[stage] = day.isoformat()
        day += timedelta(days=rng.randrange(0, 30))
    if status == "withdrawn":
        dates["withdrawn"] = day.isoformat()
    return status, dates


def _record(rng: random.Random, household_id: str | None = None, base: int | None = None) -> dict[str, Any]:
    status, dates = _history(rng)
    funding = [{"source": "central_budget", "amount_vnd": rng.choice((30_000_000, 60_000_000))}]
    if rng.random() < 0.5:
        funding.append({"source": rng.choice(("social_fund", "enterprise", "household")),
                        "amount_vnd": rng.randrange(1, 30) * 1_000_000})
    return {
        "id": household_id or str(uuid.UUID(int=rng.getrandbits(128), version=4)), "base_revision": base,
        "household_head": "Lò Văn Việt", "ethnicity": "Thái", "category": "poor", "members": 4,
        "national_id": "014085001234", "village": "Bản Lan Quynh", "declared_commune": rng.choice((COMMUNE_1, COMMUNE_2)),
        "support_type": rng.choice(("new_build", "new_build", "repair")), "status": status, "status_dates": dates,
        "funding": funding, "location": {**rng.choice(PLACES), "captured_at": "2025-02-10T09:12:00+07:00"},
        "photos": [], "captured_at": "2025-06-02T16:40:00+07:00", "note": "",
    }


def _current() -> dict[str, int]:
    return dict(db.session.execute(select(HouseholdRevision.household_id, HouseholdRevision.revision)
                                   .where(HouseholdRevision.superseded_at.is_(None))).all())


def _assert_equal(step: str) -> None:
    """Each date's sums equal a count: from the days stored by earlier steps, then from the running totals alone."""
    db.session.expire_all()
    for stored in (True, False):
        if not stored:
            db.session.execute(delete(TallySnapshot))
            db.session.commit()
        for as_of in DATES:
            ctx = resolve(as_of, utcnow(), "test")
            assert kept.covers(ctx), step
            assert day_sums.sums(ctx) == {c: t for c, t in counted_tallies(ctx).items()}, (
                f"{step}, as of {as_of}, {'from a stored day' if stored else 'from the running totals'}")


def _step(client, rng: random.Random, boss: str, officer: str) -> str:
    """One random change; edits are a manager's (who may move a status back)."""
    households = _current()
    kind = rng.choice(("push", "push", "edit", "edit", "withdraw", "move", "reassign")) if households else "push"
    if kind == "push":
        results(push(client, officer, [_record(rng) for _ in range(rng.randrange(1, 6))]))
    elif kind in ("edit", "withdraw"):
        chosen = rng.sample(sorted(households), min(len(households), rng.randrange(1, 4)))
        records = [_record(rng, h, households[h]) for h in chosen]
        if kind == "withdraw":
            for r in records:
                r["status"], r["status_dates"] = "withdrawn", {"approved": "2025-01-10", "withdrawn": "2025-03-01"}
        answers = results(push(client, boss, records, device="desk"))
        assert {r["result"] for r in answers} <= {"updated", "unchanged"}, answers
    elif kind == "move":
        household = rng.choice(sorted(households))
        response = client.post(f"/api/v1/households/{household}/assignments/test/move",
                               headers={"Authorization": f"Bearer {boss}"},
                               json={"revision": households[household], "commune": rng.choice((COMMUNE_1, COMMUNE_2)),
                                     "note": "checked on site"})
        assert response.status_code == 200, response.get_json()
    else:
        reassign_set(get_set("test"))
        db.session.commit()
    return kind


@pytest.mark.parametrize("seed, one_by_one", [(1, 2000), (2, 2000), (3, 0)])
def test_kept_tallies_equal_a_full_count_on_random_histories(client, tmp_path: Path, seed: int, one_by_one: int,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # A re-assignment moving more than ``one_by_one`` households counts the set afresh (0: always).
    monkeypatch.setattr(kept, "MOVED_ONE_BY_ONE", one_by_one)
    load_communes(tmp_path)
    make_user("officer", "commune_officer", [COMMUNE_1, COMMUNE_2])
    make_user("boss", "manager")
    officer, boss = token(client, "officer"), token(client, "boss", "desk")
    auth = {"Authorization": f"Bearer {boss}"}
    rng = random.Random(seed)
    done = []
    for number in range(24):
        done.append(_step(client, rng, boss, officer))
        _assert_equal(f"step {number} ({done[-1]}) of {done}")
    assert {"push", "edit", "withdraw", "move", "reassign"} <= set(done), done
    # The report itself reads them: the same figures as when told to count from the revisions.
    now = client.get("/api/v1/progress?level=commune&as_of=2025-04-20", headers=auth).get_json()
    past = client.get(f"/api/v1/progress?level=commune&as_of=2025-04-20&known_at={utcnow().isoformat()}",
                      headers=auth).get_json()
    assert now["rows"] == past["rows"] and now["totals"] == past["totals"]


def test_rebuild_says_whether_the_tallies_had_drifted(app, client, tmp_path: Path) -> None:
    load_communes(tmp_path)
    make_user("officer", "commune_officer", [COMMUNE_1, COMMUNE_2])
    officer = token(client, "officer")
    rng = random.Random(7)
    results(push(client, officer, [_record(rng) for _ in range(8)]))
    runner = app.test_cli_runner()
    right = runner.invoke(args=["tallies", "rebuild"])
    assert right.exit_code == 0 and "boundary set test: the tallies were right (no drift)" in right.output
    db.session.execute(update(CommuneTally).values(households=CommuneTally.households + 1))  # drift by hand
    db.session.commit()
    ctx = resolve(date(2025, 6, 30), utcnow(), "test")
    assert day_sums.sums(ctx) != counted_tallies(ctx)
    drifted = runner.invoke(args=["tallies", "rebuild", "--set", "test"])
    assert drifted.exit_code == 1 and "the tallies had drifted" in drifted.output
    db.session.expire_all()
    assert day_sums.sums(ctx) == counted_tallies(ctx)
    assert runner.invoke(args=["tallies", "rebuild", "--set", "nope"]).exit_code == 2


def test_an_interrupted_rebuild_leaves_the_old_tallies_in_force(client, tmp_path: Path) -> None:
    load_communes(tmp_path)
    make_user("officer", "commune_officer", [COMMUNE_1, COMMUNE_2])
    officer = token(client, "officer")
    results(push(client, officer, [_record(random.Random(3)) for _ in range(5)]))
    ctx = resolve(date(2025, 6, 30), utcnow(), "test")
    before = day_sums.sums(ctx)
    kept.rebuild(get_set("test"))  # counted and swapped in the transaction…
    db.session.execute(update(CommuneTally).values(households=0))
    db.session.rollback()  # …which never commits: the old tallies are in force
    assert kept.covers(ctx) and day_sums.sums(ctx) == before == counted_tallies(ctx)


def test_a_write_outside_the_ledger_sends_reports_back_to_the_revisions(client, tmp_path: Path) -> None:
    load_communes(tmp_path)
    make_user("officer", "commune_officer", [COMMUNE_1])
    officer = token(client, "officer")
    results(push(client, officer, [_record(random.Random(4)) | {"declared_commune": COMMUNE_1}]))
    ctx = resolve(date(2025, 6, 30), utcnow(), "test")
    assert kept.covers(ctx)
    assert not kept.covers(resolve(date(2025, 6, 30), utcnow() - timedelta(hours=1), "test"))  # a past known_at
    from tests.progress_builders import revise

    household = next(iter(_current()))
    revise(household, utcnow(), members=7)  # written straight into the tables
    assert not kept.covers(resolve(date(2025, 6, 30), utcnow(), "test"))  # a report from now on


def _running_totals_hold(anchor_days: tuple[int, ...]) -> None:
    """Every running total sits on one of ``anchor_days``, across its set's span, and sums the day rows before it."""
    from tracker.progress.models import TallyState
    from tracker.progress.tally_events import VALUES

    db.session.expire_all()
    first, last = db.session.execute(select(TallyState.cumulative_from, TallyState.cumulative_to)).one()
    rows = db.session.scalars(select(CommuneTally).where(CommuneTally.grain.in_(("c", "d")))).all()
    days = [r for r in rows if r.grain == "d"]
    kept_totals = {(r.day, r.commune_code, r.support_type): [getattr(r, n) for n in VALUES]
                   for r in rows if r.grain == "c" and any(getattr(r, n) for n in VALUES)}
    anchors = sorted({r.day for r in rows if r.grain == "c"})
    assert anchors[0] == first and anchors[-1] == last and {a.day for a in anchors} == set(anchor_days)
    expected: dict[tuple[date, str, str], list[int]] = {}
    for anchor in anchors:
        for r in days:
            if r.day < anchor:
                total = expected.setdefault((anchor, r.commune_code, r.support_type), [0] * len(VALUES))
                for i, name in enumerate(VALUES):
                    total[i] += getattr(r, name)
    assert kept_totals == {key: values for key, values in expected.items() if any(values)}


def test_the_running_totals_move_to_other_anchors_with_the_migrations(app, client, tmp_path: Path) -> None:
    from flask_migrate import downgrade, upgrade

    load_communes(tmp_path)
    make_user("officer", "commune_officer", [COMMUNE_1, COMMUNE_2])
    officer = token(client, "officer")
    rng = random.Random(11)
    for _ in range(3):
        results(push(client, officer, [_record(rng) for _ in range(6)]))
    _running_totals_hold((1, 7, 13, 19, 25))
    db.session.remove()
    downgrade(revision="e6a8c0d2f4b5")  # the running totals of before: a week apart
    _running_totals_hold((1, 8, 15, 22))
    db.session.remove()
    upgrade()
    _running_totals_hold((1, 7, 13, 19, 25))
    db.session.execute(delete(TallySnapshot))
    for as_of in DATES:
        ctx = resolve(as_of, utcnow(), "test")
        assert kept.covers(ctx) and day_sums.sums(ctx) == counted_tallies(ctx), as_of
