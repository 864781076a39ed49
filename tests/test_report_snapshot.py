"""A report reads one state of the data, even while phones sync.

A report with nothing stored reads its figures in several statements: the
running total before ``as_of``, then the day rows since (and the plan, the
finish days, the stored sums). A household synced between two of them must
be in all of its figures or in none: counted in ``completed`` (from the day
rows, read after it landed) but not in ``households`` (from the running
total, read before), a commune would show more houses finished than it has.
Here a push commits exactly between the first read of the tallies and the
next, through the database's own hook, on SQLite and on PostgreSQL.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import event

from schemas.household import HouseholdSchema, canonical
from tests.progress_builders import bearer, load_province, plan, record, store
from tracker.dbtypes import utcnow
from tracker.extensions import db
from tracker.households.service import create_households

# 14 April: the running total of the 13th, then the day rows of the 13th and 14th.
AS_OF = "2025-04-14"
# Counted in households from its approval (before the 13th: in the running total), completed on the 13th (a day row).
LANDING = {"status": "completed", "dates": {"approved": "2025-01-20", "started": "2025-02-10",
                                            "completed": "2025-04-13"}}


@contextmanager
def _push_landing_between_reads(app: Flask) -> Iterator[list[bool]]:
    """While inside: after the first statement of this thread that reads the kept tallies, another
    connection stores and commits a household (once). Yields a list that holds True once it has."""
    landed: list[bool] = []
    reader = threading.get_ident()

    def land() -> None:
        with app.app_context():
            store([record("90001", **LANDING)], utcnow())
            db.session.remove()

    def after(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if landed or threading.get_ident() != reader or "commune_tallies" not in statement:
            return
        landed.append(True)
        other = threading.Thread(target=land)
        other.start()
        other.join()

    event.listen(db.engine, "after_cursor_execute", after)
    try:
        yield landed
    finally:
        event.remove(db.engine, "after_cursor_execute", after)


def _figures(body: dict[str, Any], code: str) -> tuple[int, int]:
    row = next(r for r in body["rows"] if r["code"] == code)
    return row["households"], row["completed"]["total"]


@pytest.mark.parametrize("path", [f"/api/v1/progress?level=commune&as_of={AS_OF}",
                                  f"/api/v1/map/communes.geojson?as_of={AS_OF}&zoom=8"])
def test_a_report_is_all_before_or_all_after_a_sync_that_lands_while_it_reads(
        app: Flask, tmp_path: Path, path: str) -> None:
    load_province(tmp_path)
    plan({"90001": (10, 0), "90002": (5, 0)}, effective=date(2025, 1, 1))
    store([record("90001"), record("90001", status="started"), record("90002")], utcnow())
    headers = bearer()
    client = app.test_client()
    db.session.commit()  # the request starts its own transaction, as every request does

    with _push_landing_between_reads(app) as landed:
        answer = client.get(path, headers=headers)
    assert answer.status_code == 200, answer.data[:300]
    assert landed, "the report read no kept tallies: the race was not staged"
    body = answer.get_json()
    if "features" in body:
        body = {"rows": [f["properties"] for f in body["features"]]}
    # Two households, one completed by the 14th, before the sync; one more of each after it. Never half of it.
    assert _figures(body, "90001") in {(2, 1), (3, 2)}
    counted = client.get(f"/api/v1/progress?level=commune&as_of={AS_OF}&known_at={utcnow().isoformat()}",
                         headers=headers).get_json()
    assert _figures(counted, "90001") == (3, 2)


def test_a_report_known_at_a_moment_waits_for_a_write_stamped_by_then_before_its_snapshot(
        app: Flask, tmp_path: Path) -> None:
    """A push stamped before ``known_at`` but committed after the report began is in the report."""
    load_province(tmp_path)
    plan({"90001": (10, 0)}, effective=date(2025, 1, 1))
    store([record("90001")], utcnow())
    headers = bearer()
    stamped, release = threading.Event(), threading.Event()

    def slow_push() -> None:  # stamped now, committed only when released
        with app.app_context():
            create_households([canonical(HouseholdSchema().load(record("90001")))])
            stamped.set()
            release.wait(30)
            db.session.commit()
            db.session.remove()

    answers: list[Any] = []

    def report(known_at: str) -> None:
        client = app.test_client()
        answers.append(client.get(f"/api/v1/progress?level=commune&as_of={AS_OF}&known_at={quote(known_at)}",
                                  headers=headers))

    writer = threading.Thread(target=slow_push)
    writer.start()
    assert stamped.wait(30)
    reader = threading.Thread(target=report, args=(utcnow().isoformat(),))
    reader.start()
    time.sleep(0.5)  # the report has begun (its token read) and waits for the push
    release.set()
    writer.join(30)
    reader.join(30)
    assert answers and answers[0].status_code == 200, answers and answers[0].data[:300]
    assert _figures(answers[0].get_json(), "90001")[0] == 2
