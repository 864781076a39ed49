"""Benchmark: the web pages a manager opens, at national scale.

    .venv/bin/python bench/pages.py [--db PATH] [--postgres URL] [--runs 5]

On the database of ``bench/progress.py`` (334,000 households over the
national commune file from ``BOUNDARIES_DIR``; loaded first when empty), in
a process warmed as a gunicorn worker is, a manager signs in and opens each
page for ``AS_OF``: the dashboard (its district table and burn-up chart),
the same with every commune in the table, the completion map, the printable
report, one commune's page, and a search by a name that every household has
(the benchmark's households all have one name) and by one that none has;
then a commune officer of one commune opens the dashboard (their to-do
list), searches the same name, makes a phone's first pull of the sync API
and pulls again as if 10,000 households of other communes had changed
since. Each is timed as the median of ``--runs`` views after a first one
(the day's figures are then in the worker: what is timed is the page
itself), against a floor measured in the same run: the same commune rows
written as a bare HTML table by a Jinja2 template (name, completed,
percent; no formatting, no links).

Target: each page under a second; the ratio to the floor is printed.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_SPEC = importlib.util.spec_from_file_location("bench_progress", ROOT / "bench" / "progress.py")
assert _SPEC is not None and _SPEC.loader is not None
progress = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(progress)

TARGET_MS = 1000.0
PASSWORD = "bench-password-123"
FLOOR = ("<table>{% for r in rows %}<tr><td>{{ r.name }}</td><td>{{ r.completed.total }}</td>"
         "<td>{{ r.percent_complete }}</td></tr>{% endfor %}</table>")


def pages(commune: str) -> list[tuple[str, str]]:
    query = f"set={progress.SET_NAME}&as_of={progress.AS_OF}"
    return [("dashboard (district table, burn-up chart)", f"/?{query}"),
            ("dashboard, every commune in the table", f"/?{query}&level=commune"),
            ("completion map", f"/map?{query}"),
            ("printable report", f"/report?{query}"),
            ("one commune's page", f"/communes/{commune}?{query}"),
            ("search by a name every household has", f"/search?q=lo+van&{query}"),
            ("search by a name no household has", f"/search?q=zzzz&{query}")]


def officer_pages() -> list[tuple[str, str]]:
    query = f"set={progress.SET_NAME}&as_of={progress.AS_OF}"
    return [("a commune officer's dashboard (their to-do list)", f"/?{query}"),
            ("a commune officer's search by a name all theirs have", f"/search?q=lo+van&{query}")]


def median_view_ms(client: Any, path: str, runs: int, headers: dict[str, str] | None = None) -> tuple[float, int]:
    first = client.get(path, headers=headers)
    assert first.status_code == 200, (path, first.status_code)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        client.get(path, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), len(first.data)


def floor_ms(app: Any, runs: int) -> float:
    from flask import render_template_string

    from tracker.dbtypes import utcnow
    from tracker.progress.service import progress_report, resolve

    with app.test_request_context():
        rows = progress_report(resolve(progress.AS_OF, utcnow(), progress.SET_NAME, None, None), "commune").rows
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            render_template_string(FLOOR, rows=rows)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bench_database(label: str, url: str, runs: int) -> bool:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from tracker.accounts.service import create_user
    from tracker.boundaries.models import AdminUnit
    from tracker.extensions import db
    from tracker.households import sequence

    with tempfile.TemporaryDirectory(prefix="tracker-pages-") as folder:
        app = progress._app(url, Path(folder))
        app.config["WTF_CSRF_ENABLED"] = False  # the sign-in form posted by the test client
        with app.app_context():
            upgrade()
            db.session.remove()
        progress.load(app, 334_000, 2025, lambda m: print(f"[{label}] {m}", flush=True))
        progress.worker_started(app)
        name = f"pages-{uuid.uuid4().hex[:8]}"
        officer = f"officer-{uuid.uuid4().hex[:8]}"
        with app.app_context():
            create_user(name, PASSWORD, "manager", [])
            commune = db.session.scalar(select(AdminUnit.code).where(AdminUnit.level == "commune")
                                        .order_by(AdminUnit.code).limit(1))
            create_user(officer, PASSWORD, "commune_officer", [commune])
            db.session.commit()
        client, officer_client = app.test_client(), app.test_client()
        assert client.post("/login", data={"username": name, "password": PASSWORD}).status_code == 302
        assert officer_client.post("/login", data={"username": officer, "password": PASSWORD}).status_code == 302
        token = officer_client.post("/api/v1/auth/token", json={
            "username": officer, "password": PASSWORD, "device_id": "bench-phone"}).get_json()["token"]
        phone = {"Authorization": f"Bearer {token}"}
        ref = officer_client.get("/api/v1/sync/pull?cursor=0&limit=200", headers=phone).get_json()["next_cursor"]
        with app.app_context():
            later = f"{sequence.current() - 10_000}-{ref.partition('-')[2]}"  # 10,000 changes elsewhere since
        floor = floor_ms(app, runs)
        print(f"\n== {label}: web pages of the national set on {progress.AS_OF} (medians of {runs} views) ==")
        print(f"  {'floor: 11,163 commune rows as a bare HTML table':58} {floor:8.1f} ms")
        ok = True
        views = [(title, path, client, None) for title, path in pages(commune)]
        views += [(title, path, officer_client, None) for title, path in officer_pages()]
        views += [("a commune officer's first pull (sync API, 200 a page)", "/api/v1/sync/pull?cursor=0&limit=200",
                   officer_client, phone),
                  ("the same phone's pull after 10,000 changes elsewhere",
                   f"/api/v1/sync/pull?cursor={later}&limit=200", officer_client, phone)]
        for title, path, viewer, headers in views:
            ms, size = median_view_ms(viewer, path, runs, headers)
            passed = ms <= TARGET_MS
            ok &= passed
            print(f"  {title:58} {ms:8.1f} ms  {size / 1e6:5.2f} MB  {ms / floor:5.1f} x floor"
                  f"  <= {TARGET_MS:.0f} ms {'PASS' if passed else 'FAIL'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="SQLite file (the one bench/progress.py loads; reused when loaded)")
    parser.add_argument("--postgres", help="also run on this PostgreSQL database")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from tracker.config import _normalise_database_url
    from tracker.geo import sources

    if sources.boundary_file(sources.NATIONAL_2024_COMMUNES) is None:
        print(f"The national commune file {sources.NATIONAL_2024_COMMUNES} was not found in BOUNDARIES_DIR "
              f"(default {sources.DEFAULT_DIR}); see bench/progress.py.", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="tracker-pages-db-") as folder:
        db_path = args.db or Path(folder) / "bench.db"
        databases = [("SQLite", f"sqlite:///{db_path.resolve()}")]
        if args.postgres:
            databases.append(("PostgreSQL", _normalise_database_url(args.postgres)))
        ok = all([bench_database(label, url, args.runs) for label, url in databases])
    print("\nall targets met" if ok else "\nsome targets missed (see FAIL above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
