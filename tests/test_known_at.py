"""``known_at`` selects exactly what had committed by then, whatever the interleaving.

Several phones push new households and status changes at once through a real
gunicorn server on PostgreSQL while a report with ``known_at`` = "this very
moment" is taken again and again. Once the pushes are over, each report is
taken again with the same ``known_at``: the figures must be identical. (A
receipt time stamped before the commit of a slow push, with a report read in
between, would make the second reading count a household the first missed.)
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask

from tests.sync_support import COMMUNE_1, COMMUNE_2, INSIDE_1, INSIDE_2, LiveServer, household, make_user, serving
from tests.sync_support import together as _together
from tracker.boundaries.service import get_set
from tracker.extensions import db
from tracker.plans.service import add_revision

PHONES = 6
ROUNDS = 12
PER_BATCH = 4


@pytest.fixture
def live(app: Flask, tmp_path: Path) -> Iterator[LiveServer]:
    def prepare() -> None:
        add_revision("Thử 2025", get_set("test"), [
            {"commune_code": code, "new_build": 60, "repair": 20, "budget_vnd": 4_200_000_000}
            for code in (COMMUNE_1, COMMUNE_2)], deadline=date(2025, 5, 19), effective=date(2025, 1, 1))
        make_user("officer", "commune_officer", [COMMUNE_1, COMMUNE_2])
        make_user("boss", "manager")
        db.session.commit()

    with serving(app, tmp_path, 2, "concurrent writers are a PostgreSQL matter (SQLite has one writer at a time)",
                 prepare) as server:
        yield server


def _phone(live: LiveServer, auth: str, phone: int) -> None:
    """Rounds of new households, each also moving the previous round's households to "completed"."""
    previous: list[dict[str, Any]] = []
    for round_ in range(ROUNDS):
        new = [household(status="started", status_dates={"started": "2025-02-10"},
                         location={**(INSIDE_2 if i % 2 else INSIDE_1), "captured_at": "2025-02-10T09:12:00+07:00"})
               for i in range(PER_BATCH)]
        done = [{**r, "base_revision": 1, "status": "completed",
                 "status_dates": {"started": "2025-02-10", "completed": f"2025-03-{10 + round_:02d}"}}
                for r in previous]
        status, body = live.json("POST", "/api/v1/sync/push", {
            "device_id": f"phone-{phone}", "batch_id": str(uuid.uuid4()), "households": new + done}, auth)
        assert status == 200, body
        assert {r["result"] for r in body["results"]} <= {"created", "updated"}, body
        previous = new


def _report(live: LiveServer, auth: str, known_at: str) -> tuple[Any, Any]:
    headers = {"Authorization": f"Bearer {auth}"}
    status, _, progress = live.request(
        "GET", f"/api/v1/progress?level=commune&as_of=2025-04-30&known_at={quote(known_at)}", headers=headers)
    assert status == 200, progress
    status, _, points = live.request("GET", f"/api/v1/households.geojson?known_at={quote(known_at)}&limit=5000",
                                     headers=headers)
    assert status == 200, points
    answer = json.loads(progress)
    features = sorted((f["id"], f["properties"]["status"]) for f in json.loads(points)["features"])
    return (answer["rows"], answer["totals"]), features


def test_reports_known_at_a_moment_of_concurrent_pushes_read_the_same_later(live: LiveServer) -> None:
    officers = [live.token("officer", f"phone-{i}") for i in range(PHONES)]
    boss = live.token("boss", "desk-1")
    taken: list[tuple[str, Any]] = []
    pushing = threading.Event()
    pushing.set()

    def reporter() -> None:
        while pushing.is_set():
            known_at = datetime.now(UTC).isoformat()
            taken.append((known_at, _report(live, boss, known_at)))
            time.sleep(0.01)

    watchers = [threading.Thread(target=reporter) for _ in range(2)]
    for watcher in watchers:
        watcher.start()
    try:
        _together(PHONES, lambda i: _phone(live, officers[i], i))
    finally:
        pushing.clear()
        for watcher in watchers:
            watcher.join(timeout=120)
    counts = {len(features) for _, (_, features) in taken}
    assert len(taken) >= 6 and len(counts) >= 3, "reports were taken while the pushes went on"
    for known_at, first in taken:
        assert _report(live, boss, known_at) == first, f"the report known at {known_at} changed"
    final = _report(live, boss, datetime.now(UTC).isoformat())
    assert len(final[1]) == PHONES * ROUNDS * PER_BATCH
