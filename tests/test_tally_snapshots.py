"""A day's summed tallies are stored for every worker; a change reaching that day is added from the journal.

The random histories of ``test_kept_tallies`` read every date again after
each change (so a stale stored day fails there too); these tests name the
rules one by one, through the API where a user would see them.
"""
from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select, update

from tests.sync_support import COMMUNE_1, COMMUNE_2, load_communes, make_user, push, results, token
from tests.test_kept_tallies import _record
from tracker.boundaries.service import get_set
from tracker.dbtypes import utcnow
from tracker.extensions import db
from tracker.households.ledger import reassign_set
from tracker.progress import day_sums, kept, snapshots
from tracker.progress.models import TallyJournal, TallySnapshot, TallyState
from tracker.progress.service import counted_tallies, resolve

APRIL = date(2025, 4, 20)
MAY = date(2025, 5, 20)


def _stored() -> set[date]:
    db.session.expire_all()
    return set(db.session.scalars(select(TallySnapshot.day)))


def _ones() -> snapshots.Sums:
    """Sums of one commune, every figure 1."""
    return snapshots.Sums([COMMUNE_1], np.ones((1, snapshots.WIDTH), dtype=np.int64))


def _completed(client: Any, auth: str, as_of: date) -> int:
    """The total completed on ``as_of`` as the API gives it, in a worker that remembers nothing yet."""
    client.application.extensions = {k: v for k, v in client.application.extensions.items()
                                     if not k.startswith("progress_")}
    answer = client.get(f"/api/v1/progress?level=commune&as_of={as_of}", headers={"Authorization": f"Bearer {auth}"})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["totals"]["completed"]["total"]


def _household(day: date, status: str = "completed") -> dict[str, Any]:
    record = _record(random.Random(day.toordinal()))
    record["status"], record["status_dates"] = status, {"approved": "2025-01-05", status: day.isoformat()}
    return record


def _setup(client: Any, tmp_path: Path) -> tuple[str, str]:
    load_communes(tmp_path)
    make_user("officer", "commune_officer", [COMMUNE_1, COMMUNE_2])
    make_user("boss", "manager")
    return token(client, "officer"), token(client, "boss", "desk")


def test_a_day_is_summed_once_then_read_by_every_worker(client, tmp_path: Path) -> None:
    officer, boss = _setup(client, tmp_path)
    results(push(client, officer, [_household(date(2025, 3, 1)), _household(date(2025, 3, 2))]))
    assert _stored() == set()
    assert _completed(client, boss, APRIL) == 2
    assert _stored() == {APRIL}
    ctx = resolve(APRIL, utcnow(), "test")
    assert snapshots.stored_near(get_set("test").id, APRIL, 0).day == APRIL
    assert day_sums.sums(ctx) == counted_tallies(ctx)  # read back from the stored row: the same sums
    assert _completed(client, boss, APRIL) == 2


def _journal() -> list[tuple[int, date]]:
    return sorted((g, d) for g, d in db.session.execute(select(TallyJournal.generation, TallyJournal.day)))


def _generations() -> dict[date, int]:
    db.session.expire_all()
    return {d: g for d, g in db.session.execute(select(TallySnapshot.day, TallySnapshot.generation))}


def test_a_change_reaching_a_stored_day_is_journalled_and_read_back_with_it(client, tmp_path: Path) -> None:
    officer, boss = _setup(client, tmp_path)
    results(push(client, officer, [_household(date(2025, 3, 1))]))
    assert (_completed(client, boss, APRIL), _completed(client, boss, MAY)) == (1, 1)
    assert _stored() == {APRIL, MAY} and _journal() == []
    summed_at = _generations()
    results(push(client, officer, [_household(date(2025, 5, 1))]))  # its deltas: from the start (it is known)
    assert _stored() == {APRIL, MAY} and _generations() == summed_at  # kept as they were
    written = {day for _, day in _journal()}
    assert written and min(written) <= APRIL
    ctx = resolve(MAY, utcnow(), "test")
    assert day_sums.sums(ctx) == counted_tallies(ctx)
    assert (_completed(client, boss, APRIL), _completed(client, boss, MAY)) == (1, 2)
    now = snapshots.generation(get_set("test").id)
    assert _generations() == {APRIL: now, MAY: now}  # stored again with the journal added
    # An edit whose only change is dated 10 May reaches May's sums, not April's: nothing for April to read.
    record = _household(date(2025, 5, 2))
    household = results(push(client, officer, [record]))[0]
    assert (_completed(client, boss, APRIL), _completed(client, boss, MAY)) == (1, 3)
    before = len(_journal())
    edited = {**record, "base_revision": household["revision"],
              "status_dates": {**record["status_dates"], "completed": "2025-05-10"}}
    assert results(push(client, boss, [edited], device="desk"))[0]["result"] == "updated"
    assert min(day for _, day in _journal()[before:]) == date(2025, 5, 2)  # after April: nothing for it to read
    assert (_completed(client, boss, APRIL), _completed(client, boss, MAY)) == (1, 3)
    assert _completed(client, boss, date(2025, 5, 5)) == 2  # completed on 10 May now, not on 2 May


def test_a_day_stored_too_many_writes_ago_is_given_up_with_its_journal(client, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(snapshots, "JOURNAL_WRITES", 2)
    officer, boss = _setup(client, tmp_path)
    results(push(client, officer, [_household(date(2025, 3, 1))]))
    assert _completed(client, boss, APRIL) == 1
    for day in (2, 3):
        results(push(client, officer, [_household(date(2025, 3, day))]))
    assert _stored() == {APRIL} and len({g for g, _ in _journal()}) == 2
    results(push(client, officer, [_household(date(2025, 3, 4))]))  # the third write since April was summed
    assert _stored() == set()
    now = snapshots.generation(get_set("test").id)
    assert {g for g, _ in _journal()} == {now - 2, now - 1}  # this write reached no stored day: not journalled
    assert _completed(client, boss, APRIL) == 4  # summed afresh, then stored
    stored_at = snapshots.generation(get_set("test").id)
    for day in (5, 6):
        results(push(client, officer, [_household(date(2025, 3, day))]))
    # The journal is kept twice as long as the days: a report that has just read a day given up still finds it.
    assert _stored() == {APRIL}
    assert {g for g, _ in _journal()} == {stored_at - 1, stored_at + 1, stored_at + 2}
    assert _completed(client, boss, APRIL) == 6


def test_a_recount_forgets_every_day_and_a_move_is_journalled(client, tmp_path: Path) -> None:
    officer, boss = _setup(client, tmp_path)
    [household] = results(push(client, officer, [_household(date(2025, 3, 1))]))
    _completed(client, boss, APRIL)
    kept.rebuild(get_set("test"))
    db.session.commit()
    assert _stored() == set()
    _completed(client, boss, APRIL)
    reassign_set(get_set("test"))  # nothing moves: the stored day stays right
    db.session.commit()
    assert _stored() == {APRIL}
    communes = {r["code"]: r["completed"]["total"] for r in client.get(
        f"/api/v1/progress?level=commune&as_of={APRIL}", headers={"Authorization": f"Bearer {boss}"}).get_json()["rows"]}
    was = household["assignment"]["commune"]
    other = COMMUNE_2 if was == COMMUNE_1 else COMMUNE_1
    moved = client.post(f"/api/v1/households/{household['id']}/assignments/test/move",
                        headers={"Authorization": f"Bearer {boss}"},
                        json={"revision": household["revision"], "commune": other, "note": "checked on site"})
    assert moved.status_code == 200, moved.get_json()
    assert _stored() == {APRIL} and min(day for _, day in _journal()) <= APRIL  # the move, journalled
    _completed(client, boss, APRIL)
    after = {r["code"]: r["completed"]["total"] for r in client.get(
        f"/api/v1/progress?level=commune&as_of={APRIL}", headers={"Authorization": f"Bearer {boss}"}).get_json()["rows"]}
    assert after.get(other, 0) == communes.get(other, 0) + 1 and after.get(was, 0) == communes.get(was, 0) - 1


def test_sums_taken_before_a_write_are_not_stored_after_it(client, tmp_path: Path) -> None:
    officer, boss = _setup(client, tmp_path)
    results(push(client, officer, [_household(date(2025, 3, 1))]))
    set_id = get_set("test").id
    since = snapshots.generation(set_id)
    stale = _ones()
    results(push(client, officer, [_household(date(2025, 3, 2))]))  # a write between the sum and the store
    assert snapshots.keep(set_id, APRIL, since, stale) is False
    assert _stored() == set()
    assert snapshots.keep(set_id, APRIL, snapshots.generation(set_id), stale) is True
    assert db.session.scalar(select(func.count()).select_from(TallySnapshot)) == 1


def test_scoped_and_past_reports_never_store_a_day(client, tmp_path: Path) -> None:
    officer, boss = _setup(client, tmp_path)
    results(push(client, officer, [_household(date(2025, 3, 1))]))
    answer = client.get(f"/api/v1/progress?level=commune&as_of={APRIL}", headers={"Authorization": f"Bearer {officer}"})
    assert answer.status_code == 200 and answer.get_json()["totals"]["completed"]["total"] == 1
    an_hour_ago = (utcnow() - timedelta(hours=1)).isoformat()
    past = client.get(f"/api/v1/progress?level=commune&as_of={APRIL}&known_at={an_hour_ago}",
                      headers={"Authorization": f"Bearer {boss}"})
    assert past.status_code == 200 and past.get_json()["totals"] is None  # before the push: counted, nothing
    assert _stored() == set()


def test_a_writer_holding_the_set_makes_the_store_skip_not_wait(client, tmp_path: Path) -> None:
    officer, _ = _setup(client, tmp_path)
    results(push(client, officer, [_household(date(2025, 3, 1))]))
    set_id = get_set("test").id
    since = snapshots.generation(set_id)
    db.session.commit()
    db.session.execute(update(TallyState).where(TallyState.boundary_set_id == set_id)
                       .values(generation=TallyState.generation))  # a write in progress (not committed)
    assert snapshots.keep(set_id, APRIL, since, _ones()) is False
    db.session.rollback()
    assert _stored() == set()


def test_a_day_not_stored_starts_from_the_day_before_stored(client, tmp_path: Path) -> None:
    officer, boss = _setup(client, tmp_path)
    records = [_household(date(2025, 4, 19)), _household(date(2025, 4, 2), "approved"),
               _household(date(2025, 4, 3), "approved")]
    pushed = results(push(client, officer, records))
    set_id = get_set("test").id
    assert _completed(client, boss, date(2025, 4, 19)) == 1
    edits = [{**record, "base_revision": answer["revision"], "status": "completed",
              "status_dates": {**record["status_dates"], "completed": day}}
             for record, answer, day in zip(records[1:], pushed[1:], ("2025-04-20", "2025-04-21"))]
    assert {r["result"] for r in results(push(client, boss, edits, device="desk"))} == {"updated"}
    assert _stored() == {date(2025, 4, 19)}  # changes dated after the 19th
    ctx = resolve(date(2025, 4, 21), utcnow(), "test")
    assert day_sums.sums(ctx) == counted_tallies(ctx)  # the 19th's sums and the day rows of the 20th and 21st
    assert _stored() == {date(2025, 4, 19), date(2025, 4, 21)}
    assert _completed(client, boss, date(2025, 4, 21)) == 3
    assert snapshots.stored_near(set_id, date(2025, 4, 27), day_sums.STORED_DAYS_NEAR).day == date(2025, 4, 21)
    assert snapshots.stored_near(set_id, date(2025, 4, 28), day_sums.STORED_DAYS_NEAR) is None  # too far
    # A day before the stored ones starts from the nearest, less the day rows between.
    assert snapshots.stored_near(set_id, date(2025, 4, 14), day_sums.STORED_DAYS_NEAR).day == date(2025, 4, 19)
    ctx = resolve(date(2025, 4, 14), utcnow(), "test")
    assert day_sums.sums(ctx) == counted_tallies(ctx)
    assert _completed(client, boss, date(2025, 4, 14)) == 0
    assert _completed(client, boss, date(2025, 4, 20)) == 2  # between two stored days: the 19th's, plus the 20th


def test_two_workers_storing_the_same_day_at_once_both_succeed(client, tmp_path: Path) -> None:
    """The second store of a day waits for the first and writes over it; it is never an error (a 500)."""
    import threading
    import time

    import pytest
    from sqlalchemy import insert

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes one writer at a time: the second store is skipped, not raced")
    officer, _ = _setup(client, tmp_path)
    results(push(client, officer, [_household(date(2025, 3, 1))]))
    set_id = get_set("test").id
    since = snapshots.generation(set_id)
    db.session.commit()
    outcome: list[Any] = []
    with db.engine.connect() as other:  # another worker, half-way through storing the same day
        other.execute(select(TallyState.generation).where(TallyState.boundary_set_id == set_id).with_for_update(read=True))
        other.execute(insert(TallySnapshot).values(boundary_set_id=set_id, day=APRIL, codes=COMMUNE_1, sums=b""))

        def store() -> None:
            with client.application.app_context():
                try:
                    outcome.append(snapshots.keep(set_id, APRIL, since, _ones()))
                except Exception as exc:  # noqa: BLE001 - the defect: an error instead of a stored day
                    outcome.append(exc)

        worker = threading.Thread(target=store)
        worker.start()
        time.sleep(0.5)  # the store now waits for the other worker's row
        other.commit()
        worker.join(10)
    assert outcome == [True]
    stored = snapshots.stored_near(set_id, APRIL, 0).sums
    assert (stored.codes, stored.values.tolist()) == ([COMMUNE_1], [[1] * snapshots.WIDTH])


def test_a_day_with_no_household_yet_is_stored_and_read_back(client, tmp_path: Path) -> None:
    _, boss = _setup(client, tmp_path)
    ctx = resolve(APRIL, utcnow(), "test")
    assert day_sums.sums(ctx) == {} and _stored() == {APRIL}
    assert day_sums.sums(ctx) == {}  # read back: empty, not an error
    answer = client.get(f"/api/v1/progress?level=commune&as_of={APRIL}", headers={"Authorization": f"Bearer {boss}"})
    assert answer.status_code == 200 and answer.get_json()["rows"] == []
