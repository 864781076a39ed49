"""The load a deadline brings, open loop: requests arrive at a set rate whatever the answers do.

    .venv/bin/python bench/deadline.py [--start 0.5] [--step 0.25] [--steps 40] [--step-seconds 20] [--least 30]
                                       [--database postgresql+psycopg://postgres@127.0.0.1/tracker_deadline]

Arrivals are a fixed mix: pushes of 20 records (60 %), 2 MB photo uploads
(30 %) and dashboard views (10 %, the progress report of every commune).
The rate starts below one request a second (``--start``) and each step adds
``--step`` (a quarter of a request a second by default), so the highest rate
held is found to within that step rather than overshot; a step is held
while every kind's p95 (measured from the moment the request was due, so
queueing counts) stays under its target: push 500 ms, photo 1 s, dashboard
1 s. Besides, ``--slow`` phones keep uploading photos at 3G speed (64 KB/s)
the whole time; their own latency is not scored.

Runs twice, nginx in front each time (as in production: facing the phones
directly, two slow phones hold both gunicorn workers of a server and nothing
is held even at half a request a second): one gunicorn server on a local
photo store, then two sharing the database and a photo folder (``--store
s3``: moto's S3 server on loopback, which is slower than the servers it
serves, so the photo figures then measure moto). Prints the highest rate held for each, and the ratio of the two.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.sync_support import PASSWORD  # noqa: E402 (after the path is set)

TARGETS = {"push": 0.5, "photo": 1.0, "dashboard": 1.0}
MIX = [("push", 0.6), ("photo", 0.3), ("dashboard", 0.1)]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def call(port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


def unique_photo(base: bytes) -> bytes:
    """The same 2 MB JPEG with a random comment segment: a new hash, still a real image."""
    comment = os.urandom(32)
    return base[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + base[2:]


class Load:
    def __init__(self, port: int, tokens: list[str], manager: str, base_photo: bytes, records: Any) -> None:
        self.port, self.tokens, self.manager = port, tokens, manager
        self.base_photo, self.records = base_photo, records
        self.lock = threading.Lock()

    def one(self, kind: str, rng: random.Random) -> int:
        auth = {"Authorization": f"Bearer {rng.choice(self.tokens)}"}
        if kind == "push":
            batch = [self.records() for _ in range(20)]
            body = json.dumps({"device_id": "bench", "batch_id": str(uuid.uuid4()), "households": batch}).encode()
            return call(self.port, "POST", "/api/v1/sync/push", body, {**auth, "Content-Type": "application/json"})
        if kind == "photo":
            data = unique_photo(self.base_photo)
            return call(self.port, "PUT", f"/api/v1/photos/{hashlib.sha256(data).hexdigest()}", data,
                        {**auth, "Content-Type": "image/jpeg"})
        return call(self.port, "GET", "/api/v1/progress?level=commune", None,
                    {"Authorization": f"Bearer {self.manager}"})

    def step(self, rate: float, seconds: float, seed: int, least: int = 0) -> dict[str, list[float]]:
        """Fire arrivals at ``rate`` per second for ``seconds`` (longer when that gives fewer than ``least``
        arrivals: a p95 of two photos is one slow photo); latencies per kind from the due time."""
        rng = random.Random(seed)
        latencies: dict[str, list[float]] = defaultdict(list)
        failures: dict[str, int] = defaultdict(int)

        def run(kind: str, due: float) -> None:
            try:
                ok = self.one(kind, random.Random(rng.random())) < 500
            except OSError:
                ok = False
            with self.lock:
                latencies[kind].append(time.monotonic() - due if ok else float("inf"))
                failures[kind] += 0 if ok else 1

        with ThreadPoolExecutor(max_workers=256) as pool:
            start, count = time.monotonic(), max(int(rate * seconds), least)
            for index in range(count):
                due = start + index / rate
                time.sleep(max(0.0, due - time.monotonic()))
                kind = rng.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
                pool.submit(run, kind, due)
        return latencies


def slow_uploads(port: int, token: str, base: bytes, stop: threading.Event) -> None:
    """A phone on 3G: 64 KB every second, photo after photo."""
    while not stop.is_set():
        data = unique_photo(base)
        import socket

        head = (f"PUT /api/v1/photos/{hashlib.sha256(data).hexdigest()} HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(data)}\r\n\r\n")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
                sock.sendall(head.encode())
                for offset in range(0, len(data), 64 * 1024):
                    if stop.is_set():
                        return
                    sock.sendall(data[offset:offset + 64 * 1024])
                    time.sleep(1.0)
                sock.recv(4096)
        except OSError:
            time.sleep(1.0)


def ramp(load: Load, args: argparse.Namespace, label: str) -> float:
    load.step(2.0, 5, args.seed - 1)  # warm-up, not scored: each worker's first requests open its connections
    held, rate = 0.0, args.start
    for step in range(args.steps):
        latencies = load.step(rate, args.step_seconds, args.seed + step, args.least)
        p95 = {kind: percentile(latencies.get(kind, []), 0.95) for kind in TARGETS}
        ok = all(p95[k] <= TARGETS[k] for k in TARGETS if latencies.get(k))
        print(f"{label:<22}{rate:>8.2f}/s  " + "  ".join(
            f"{k} p95 {p95[k] * 1000:>7.0f} ms ({len(latencies.get(k, []))})" for k in TARGETS)
            + ("  held" if ok else "  NOT held"), flush=True)
        if not ok:
            break
        held, rate = rate, rate + args.step
    return held


def prepare(args: argparse.Namespace, work: Path) -> str:
    from flask_migrate import upgrade

    from tests.helpers import recreate_pg_database
    from tests.progress_builders import at, load_province, plan
    from tracker.accounts.service import create_user
    from tracker.app import create_app
    from tracker.extensions import db

    url = args.database
    recreate_pg_database(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": str(work), "PHOTO_DIR": str(work / "photos"),
                      "ENV_NAME": "testing", "LOGIN_RATE_LIMIT": 100000})
    with app.app_context():
        upgrade()
        load_province(work)
        plan({c: (400, 100) for c in ("90001", "90002", "90003", "90004")}, effective=at("2025-01-01 08:00").date())
        for index in range(20):
            create_user(f"officer-{index}", PASSWORD, "commune_officer", ["90001", "90002", "90003", "90004"])
        create_user("province", PASSWORD, "manager", [])
        db.session.commit()
        db.engine.dispose()
    return url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", type=float, default=0.5, help="first arrival rate (requests/s)")
    parser.add_argument("--step", type=float, default=0.25, help="added to the rate after each step held")
    parser.add_argument("--steps", type=int, default=40, help="at most this many steps")
    parser.add_argument("--step-seconds", type=float, default=20.0)
    parser.add_argument("--least", type=int, default=30, help="arrivals per step at least (slow steps last longer)")
    parser.add_argument("--slow", type=int, default=4, help="phones uploading at 3G speed all along")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store", choices=("local", "s3"), default="local",
                        help="two servers' photo store: one shared local folder (default), or moto's S3 server, "
                             "whose own speed then bounds the photo uploads")
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/tracker_deadline")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from PIL import Image

    from tests.progress_builders import record
    from tests.storage_support import CREDENTIALS, MotoServer
    from tests.sync_support import LiveServer
    from tests.test_multi_server import Nginx

    work = Path(tempfile.mkdtemp(prefix="tracker-deadline-"))
    url = prepare(args, work)
    image = Image.frombytes("RGB", (1600, 1100), os.urandom(1600 * 1100 * 3))  # noise: about 2 MB as JPEG
    out = tempfile.SpooledTemporaryFile()
    image.save(out, format="JPEG", quality=95)
    out.seek(0)
    base = out.read()
    print(f"photo of {len(base) / 1e6:.1f} MB; targets p95: push 500 ms, photo 1 s, dashboard 1 s", flush=True)
    communes = ["90001", "90002", "90003", "90004"]
    rng = random.Random(args.seed)

    def records() -> dict[str, Any]:
        return record(rng.choice(communes), base_revision=None, photos=[])

    results = {}
    os.environ.update({k: os.environ.get(k, v) for k, v in CREDENTIALS.items()})
    moto = MotoServer(work / "moto.log")
    layouts = {"one server": None, "two behind nginx": moto}  # both behind nginx; one on a local store
    try:
        for label, store in layouts.items():
            env = {"LOGIN_RATE_LIMIT": "100000", "PROXY_HOPS": "1"}
            if store and args.store == "s3":
                env.update(store.settings(store.new_bucket()))
            elif store:  # two servers on one machine may share one folder: the servers are measured, not moto
                env["PHOTO_DIR"] = str(work / "shared-photos")
            servers = [LiveServer(url, work / f"{label}-{i}".replace(" ", "-"), workers=args.workers, env=env)
                       for i in range(2 if store else 1)]
            # nginx in front of both layouts, as in production: without it a few slow phones hold every worker
            proxy = Nginx(work / f"nginx-{len(servers)}", (servers[0].port, servers[-1].port))
            port = proxy.port
            tokens = [servers[0].token(f"officer-{i}", f"phone-{label}-{i}") for i in range(20)]
            stop = threading.Event()
            slow = [threading.Thread(target=slow_uploads, args=(port, tokens[i], base, stop), daemon=True)
                    for i in range(args.slow)]
            for thread in slow:
                thread.start()
            try:
                results[label] = ramp(Load(port, tokens, servers[0].token("province", f"desk-{label}"), base, records),
                                      args, label)
            finally:
                stop.set()
                proxy.stop()
                for server in servers:
                    server.stop()
    finally:
        moto.stop()
    one, two = results["one server"], results["two behind nginx"]
    print(f"\nhighest arrival rate held (requests/s, mix {MIX}, {args.slow} slow phones):")
    print(f"  one server behind nginx:  {one:.2f}/s")
    print(f"  two behind nginx:         {two:.2f}/s  (ratio {two / one if one else float('nan'):.2f} to one server)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
