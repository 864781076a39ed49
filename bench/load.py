"""Load: 50 simulated phones (push, pull, photo upload) against the real server
for a bounded time, while a provincial officer opens dashboards and exports.

    .venv/bin/python bench/load.py [--phones 50] [--seconds 60] [--workers 4]
                                   [--database postgresql+psycopg://postgres@127.0.0.1/tracker_load]

Builds a fresh database (default: a temporary SQLite file; PostgreSQL when
``--database`` names one, dropped and created), loads the synthetic province
with a plan, starts gunicorn with several workers, and runs the phones as
threads. Each phone loops: push a batch of new records (10 by default), now
and then edits some of its earlier records, uploads a photo for some records,
and pulls its changes. One more client samples ``/api/v1/progress``, the
communes map, the XLSX export and the dashboard page once a second.

Prints per kind of call: count, errors, throughput, p50/p95/p99 latency; and
exits non-zero when any call failed (5xx or a connection error) or the
dashboards' p95 went over ``--dashboard-p95`` seconds.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.sync_support import PASSWORD  # noqa: E402 (after the path is set)


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, kind: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[kind][status] += 1
            if status == 0 or status >= 500:
                self.errors[kind] += 1


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Client:
    def __init__(self, port: int, stats: Stats, token: str = "") -> None:
        self.port, self.stats, self.token = port, stats, token
        self.connection: http.client.HTTPConnection | None = None

    def call(self, kind: str, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        all_headers = {"Authorization": f"Bearer {self.token}", **(headers or {})} if self.token else dict(headers or {})
        started = time.perf_counter()
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.connection.request(method, path, body=body, headers=all_headers)
            response = self.connection.getresponse()
            data = response.read()
            status = response.status
            if response.getheader("Connection", "").lower() == "close":
                self.connection.close()
                self.connection = None
        except (OSError, http.client.HTTPException):
            status, data = 0, b""
            if self.connection is not None:
                self.connection.close()
            self.connection = None
        self.stats.add(kind, time.perf_counter() - started, status)
        return status, data


def phone(port: int, stats: Stats, token: str, device: str, stop: float, records: list[dict[str, Any]],
          photos: list[bytes], batch: int, rng: random.Random) -> None:
    client = Client(port, stats, token)
    sent: dict[str, tuple[dict[str, Any], int]] = {}  # id -> (record, revision the server gave)
    cursor = "0"
    photo_index = 0
    while time.monotonic() < stop and records:
        fresh = [records.pop() for _ in range(min(batch, len(records)))]
        for record in fresh:
            if rng.random() < 0.2 and photo_index < len(photos):
                data = photos[photo_index]
                photo_index += 1
                sha = hashlib.sha256(data).hexdigest()
                client.call("photo", "PUT", f"/api/v1/photos/{sha}", data, {"Content-Type": "image/jpeg"})
                record["photos"] = [{"sha256": sha, "stage": "before", "taken_at": "2025-01-05T08:00:00+07:00"}]
        edits = []
        if sent and rng.random() < 0.3:
            for record, revision in rng.sample(list(sent.values()), min(3, len(sent))):
                edits.append({**record, "base_revision": revision, "members": record["members"] % 9 + 1,
                              "captured_at": "2025-04-20T10:00:00+07:00"})
        body = json.dumps({"device_id": device, "batch_id": str(uuid.uuid4()), "households": fresh + edits}).encode()
        status, data = client.call("push", "POST", "/api/v1/sync/push", body, {"Content-Type": "application/json"})
        if status == 200:
            revisions = {r["id"]: r["revision"] for r in json.loads(data)["results"] if r.get("revision")}
            for record in fresh + edits:
                if record["id"] in revisions:
                    sent[record["id"]] = ({**record, "base_revision": None}, revisions[record["id"]])
        status, data = client.call("pull", "GET", f"/api/v1/sync/pull?cursor={cursor}&limit=500")
        if status == 200:
            cursor = json.loads(data)["next_cursor"]


def dashboards(port: int, stats: Stats, token: str, session_cookie: str, stop: float) -> None:
    api = Client(port, stats, token)
    page = Client(port, stats)
    while time.monotonic() < stop:
        started = time.monotonic()
        api.call("dash:progress", "GET", "/api/v1/progress?level=district")
        api.call("dash:map", "GET", "/api/v1/map/communes.geojson")
        api.call("dash:export.xlsx", "GET", "/api/v1/export/progress.xlsx?level=commune")
        page.call("dash:page", "GET", "/", headers={"Cookie": session_cookie})
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))


def _web_session(port: int, username: str) -> str:
    import re

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/login")
    response = connection.getresponse()
    html = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    from urllib.parse import urlencode

    connection.request("POST", "/login", body=urlencode({"username": username, "password": PASSWORD,
                                                         "csrf_token": token}),
                       headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    response = connection.getresponse()
    response.read()
    assert response.status == 302, response.status
    return response.getheader("Set-Cookie", "").split(";")[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phones", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--database", default="")
    parser.add_argument("--dashboard-p95", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from tests.helpers import recreate_pg_database
    from tests.progress_builders import at, load_province, plan, record
    from tests.sync_support import LiveServer, image_bytes
    from tracker.accounts.service import create_user
    from tracker.app import create_app
    from tracker.extensions import db

    work = Path(tempfile.mkdtemp(prefix="tracker-load-"))
    url = args.database or f"sqlite:///{work / 'load.db'}"
    if url.startswith("postgresql"):
        recreate_pg_database(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": str(work), "PHOTO_DIR": str(work / "photos"),
                      "ENV_NAME": "testing", "LOGIN_RATE_LIMIT": 1000})
    communes = ["90001", "90002", "90003", "90004"]
    with app.app_context():
        upgrade()
        load_province(work)
        plan({c: (400, 100) for c in communes}, effective=at("2025-01-01 08:00").date())
        for index in range(args.phones):
            create_user(f"officer-{index}", PASSWORD, "commune_officer", [communes[index % len(communes)]])
        create_user("province", PASSWORD, "manager", [])
        db.session.commit()
        db.engine.dispose()

    rng = random.Random(args.seed)
    print(f"preparing {args.phones} phones' records and photos…", flush=True)
    per_phone = int(args.seconds * 4 * args.batch) + args.batch
    records = {i: [record(communes[i % len(communes)], status=rng.choice(["approved", "started", "completed"]),
                          **{"base_revision": None, "photos": []}) for _ in range(per_phone)]
               for i in range(args.phones)}
    photos = {i: [image_bytes(size=(640, 480)) for _ in range(int(args.seconds) // 2 + 2)] for i in range(args.phones)}

    server = LiveServer(url, work / "live", workers=args.workers)
    stats = Stats()
    try:
        tokens = []
        for index in range(args.phones):
            tokens.append(server.token(f"officer-{index}", f"phone-{index}"))
        manager = server.token("province", "desk")
        cookie = _web_session(server.port, "province")
        stop = time.monotonic() + args.seconds
        threads = [threading.Thread(target=phone, args=(server.port, stats, tokens[i], f"phone-{i}", stop, records[i],
                                                        photos[i], args.batch, random.Random(args.seed + i)))
                   for i in range(args.phones)]
        threads.append(threading.Thread(target=dashboards, args=(server.port, stats, manager, cookie, stop)))
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    finally:
        server.stop()

    kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"\n{args.phones} phones + 1 dashboard client, {elapsed:.0f}s, {args.workers} gunicorn workers, {kind}")
    print(f"{'call':<20}{'count':>8}{'errors':>8}{'per s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    total = errors = 0
    for name in sorted(stats.latencies):
        values = stats.latencies[name]
        total += len(values)
        errors += stats.errors[name]
        print(f"{name:<20}{len(values):>8}{stats.errors[name]:>8}{len(values) / elapsed:>9.1f}"
              f"{percentile(values, 0.5) * 1000:>9.0f}{percentile(values, 0.95) * 1000:>9.0f}"
              f"{percentile(values, 0.99) * 1000:>9.0f}")
    pushed = sum(stats.statuses["push"].values())
    every = [v for values in stats.latencies.values() for v in values]
    print(f"{'all':<20}{total:>8}{errors:>8}{total / elapsed:>9.1f}{percentile(every, 0.5) * 1000:>9.0f}"
          f"{percentile(every, 0.95) * 1000:>9.0f}{percentile(every, 0.99) * 1000:>9.0f}")
    print(f"push batches answered 200: {stats.statuses['push'].get(200, 0)} of {pushed}; "
          f"statuses: { {k: dict(v) for k, v in stats.statuses.items()} }")
    dash = [v for name, values in stats.latencies.items() if name.startswith("dash:") for v in values]
    slow = percentile(dash, 0.95) > args.dashboard_p95
    if slow:
        print(f"FAIL: dashboards p95 {percentile(dash, 0.95):.2f}s > {args.dashboard_p95}s")
    if errors:
        print(f"FAIL: {errors} calls failed (5xx or connection errors)")
    return 1 if errors or slow else 0


if __name__ == "__main__":
    sys.exit(main())
