"""Benchmark: pushing household records through a real WSGI server on SQLite.

    .venv/bin/python bench/sync.py [--records 10000] [--batch 100] [--workers 2] [--clients 1]

Builds a fresh SQLite database (the Son La boundaries from ``BOUNDARIES_DIR``,
or the synthetic province), generates realistic records with the demo
generator, starts gunicorn on a free loopback port and pushes the records in
batches as a commune officer's phone would (one request per batch, waiting
for each answer). It reports records per second end to end and the p50/p95
latency of a batch.

In the same run it times, on the same records, the two costs no push can
avoid: Marshmallow validation alone (``HouseholdSchema().load``) and a bare
bulk insert of the rows (households and their revisions, committed per
batch, into another fresh database). Their sum per record is the ceiling for
this stack on one core; the end-to-end rate is printed as a share of it.

Targets: at least 40 % of the ceiling, p95 batch latency under 250 ms.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SHARE = 0.40
TARGET_P95_MS = 250.0
PASSWORD = "bench-password-123"
DEVICE = "bench-phone"


def _app(url: str, instance: Path) -> Any:
    from tracker.app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": str(instance), "ENV_NAME": "testing"})


def prepare(folder: Path, records: int) -> tuple[str, list[dict[str, Any]], list[str]]:
    """A migrated database with boundaries and an officer; the records to push."""
    from flask_migrate import upgrade

    from tracker.accounts.service import create_user
    from tracker.boundaries.models import AdminUnit
    from tracker.demo.generate import demo_households, demo_plan
    from tracker.demo.load import _communes, load_boundaries
    from tracker.extensions import db
    from tracker.households.service import default_set

    url = f"sqlite:///{folder / 'bench.db'}"
    app = _app(url, folder)
    with app.app_context():
        upgrade()
        reports, synthetic = load_boundaries()
        db.session.commit()
        boundary_set = default_set()
        communes = _communes(boundary_set)
        new_build = int(records * 0.87)
        plan = demo_plan(communes, new_build=new_build, repair=records - new_build)
        generated = demo_households(communes, plan, date(2025, 6, 1))[:records]
        codes = sorted(set(db.session.scalars(db.select(AdminUnit.code).where(AdminUnit.level == "commune"))))
        create_user("bench-officer", PASSWORD, "commune_officer", codes)
        db.session.commit()
        sets = ", ".join(f"{r.name} ({r.counts.get('commune', 0)} communes)" for r in reports)
        print(f"boundaries: {sets}{' [synthetic]' if synthetic else ''}; {len(generated)} records generated")
        db.engine.dispose()
    return url, generated, codes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, folder: Path, workers: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "INSTANCE_DIR": str(folder), "TRACKER_ENV": "testing",
           "PYTHONPATH": str(ROOT)}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "wsgi:app"], cwd=ROOT, env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _ = call(port, "GET", "/api/v1/health")  # noqa: F841
            if status == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def call(port: int, method: str, path: str, payload: Any = None, token: str | None = None,
         body: bytes | None = None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is None and payload is not None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        return response.status, data
    finally:
        connection.close()


def push_all(port: int, records: list[dict[str, Any]], batch: int, clients: int) -> tuple[float, list[float], dict]:
    """Push every batch; the phone's bodies are encoded before the clock starts, answers read after."""
    from concurrent.futures import ThreadPoolExecutor

    status, body = call(port, "POST", "/api/v1/auth/token",
                        {"username": "bench-officer", "password": PASSWORD, "device_id": DEVICE})
    assert status == 201, body
    token = json.loads(body)["token"]
    bodies = [
        json.dumps({"device_id": DEVICE, "batch_id": str(uuid.uuid4()), "households": records[i:i + batch]},
                   ensure_ascii=False).encode("utf-8")
        for i in range(0, len(records), batch)
    ]
    answers: list[bytes] = []

    def send(payload: bytes) -> float:
        started = time.perf_counter()
        status, answer = call(port, "POST", "/api/v1/sync/push", token=token, body=payload)
        elapsed = time.perf_counter() - started
        if status != 200:
            raise SystemExit(f"push failed: {status} {answer[:500]!r}")
        answers.append(answer)
        return elapsed

    for _ in range(4):  # warm every worker's caches (commune index) outside the timing
        send(json.dumps({"device_id": DEVICE, "batch_id": str(uuid.uuid4()),
                         "households": [{**records[0], "id": str(uuid.uuid4())}]}).encode("utf-8"))
    answers.clear()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        latencies = list(pool.map(send, bodies))
    wall = time.perf_counter() - started
    outcomes: dict[str, int] = {}
    for answer in answers:
        for result in json.loads(answer)["results"]:
            outcomes[result["result"]] = outcomes.get(result["result"], 0) + 1
    return wall, latencies, outcomes


def time_validation(records: list[dict[str, Any]], repeats: int = 3) -> float:
    """Seconds per record of ``HouseholdSchema().load`` alone (best of ``repeats``)."""
    from schemas.household import HouseholdSchema

    schema = HouseholdSchema()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for record in records:
            schema.load(record)
        best = min(best, time.perf_counter() - started)
    return best / len(records)


def time_bare_insert(folder: Path, records: list[dict[str, Any]], batch: int, name: str = "bare.db") -> float:
    """Seconds per record of inserting households and revisions in bulk, committed per batch."""
    from flask_migrate import upgrade

    from schemas.household import HouseholdSchema, canonical
    from sync.records import content_hash, revision_columns
    from tracker.dbtypes import utcnow
    from tracker.extensions import db
    from tracker.households.models import Household, HouseholdRevision

    schema = HouseholdSchema()
    rows = []
    for record in records:
        data = canonical(schema.load(record))
        rows.append((data, content_hash(data), revision_columns(data)))
    app = _app(f"sqlite:///{folder / name}", folder)
    with app.app_context():
        upgrade()
        households, revisions = Household.__table__, HouseholdRevision.__table__
        now = utcnow()
        started = time.perf_counter()
        for start in range(0, len(rows), batch):
            part = rows[start:start + batch]
            db.session.execute(households.insert(), [
                {"id": d["id"], "revision": 1, "change_seq": start + i, "created_at": now, "updated_at": now}
                for i, (d, _, _) in enumerate(part)])
            db.session.execute(revisions.insert(), [
                {"household_id": d["id"], "revision": 1, "received_at": now, "result": "created",
                 "device_id": DEVICE, "content_hash": h, "data": d, **columns}
                for d, h, columns in part])
            db.session.commit()
        elapsed = time.perf_counter() - started
        db.engine.dispose()
    return elapsed / len(rows)


def count_households(url: str, folder: Path, warm_up: int = 4) -> int:
    """Households stored by the timed pushes (the warm-up records left out)."""
    from tracker.extensions import db
    from tracker.households.models import Household

    app = _app(url, folder)
    with app.app_context():
        count = db.session.scalar(db.select(db.func.count()).select_from(Household))
        db.engine.dispose()
    return int(count or 0) - warm_up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--clients", type=int, default=1, help="phones pushing at the same time")
    parser.add_argument("--runs", type=int, default=2,
                        help="repeat every measurement on a fresh database and keep the best (default 2)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        folder = Path(tmp)
        url, records, _codes = prepare(folder, args.records)
        pristine = folder / "pristine.db"
        shutil.copyfile(folder / "bench.db", pristine)
        runs = []
        for run in range(args.runs):
            run_db = folder / f"run{run}.db"
            shutil.copyfile(pristine, run_db)
            run_url = f"sqlite:///{run_db}"
            process, port = start_server(run_url, folder, args.workers)
            try:
                wall, latencies, outcomes = push_all(port, records, args.batch, args.clients)
            finally:
                process.terminate()
                process.wait(timeout=30)
            runs.append((wall, latencies, outcomes, count_households(run_url, folder)))
            print(f"run {run + 1}: {len(records) / wall:.0f} records/s")
        validation = time_validation(records, repeats=max(3, args.runs))
        bare_insert = min(time_bare_insert(folder, records, args.batch, name=f"bare{i}.db") for i in range(args.runs))

    wall, latencies, outcomes, stored = min(runs, key=lambda r: r[0])
    rate = len(records) / wall
    ceiling_per_record = validation + bare_insert
    ceiling = 1 / ceiling_per_record
    share = rate / ceiling
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered))) - 1)] * 1000
    print(f"pushed {len(records)} records in {len(latencies)} batches of {args.batch} "
          f"({args.workers} workers, {args.clients} client{'s' if args.clients > 1 else ''}): "
          f"{', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))}; {stored} households stored")
    print(f"end to end:        {rate:8.0f} records/s   ({wall:.2f} s, best of {args.runs})")
    print(f"batch latency:     p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   (target p95 < {TARGET_P95_MS:.0f} ms)")
    print(f"validation alone:  {validation * 1e6:8.1f} µs/record")
    print(f"bare bulk insert:  {bare_insert * 1e6:8.1f} µs/record")
    print(f"ceiling:           {ceiling:8.0f} records/s   (validation + bare insert, one core)")
    print(f"share of ceiling:  {share * 100:8.1f} %       (target ≥ {TARGET_SHARE * 100:.0f} %)")
    print(f"machine load:      {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    ok = share >= TARGET_SHARE and p95 < TARGET_P95_MS and all(r[3] == len(records) for r in runs)
    print("result:            " + ("OK" if ok else "BELOW TARGET"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
