"""Crash and replay: the real server (gunicorn, several workers, PostgreSQL) is
SIGKILLed at random moments while ten simulated phones push 5,000 records with
photos; it is restarted, the phones retry, and at the end the database holds
exactly the expected records, revisions and photos, and the audit log agrees.

Bounded for ``make test``: ``CRASH_RECORDS`` (5,000), ``CRASH_DEVICES`` (10),
``CRASH_KILLS`` (4).
"""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.sync_support import COMMUNE_1, PASSWORD, REPO, free_port, household, image_bytes, load_communes, make_user
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.households.models import Household, HouseholdRevision, Photo
from tracker.photos.blobs import LocalBlobs
from tracker.photos.storage import PhotoStorage

RECORDS = int(os.environ.get("CRASH_RECORDS", "5000"))
DEVICES = int(os.environ.get("CRASH_DEVICES", "10"))
KILLS = int(os.environ.get("CRASH_KILLS", "4"))
BATCH = 50
EDITS_PER_DEVICE = 50
PHOTOS_PER_BATCH = 1


class Server:
    """gunicorn in its own process group, so that SIGKILL takes master and workers at once."""

    def __init__(self, url: str, instance: Path, workers: int = 3) -> None:
        self.url, self.instance, self.workers = url, instance, workers
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        env = {**os.environ, "DATABASE_URL": self.url, "INSTANCE_DIR": str(self.instance),
               "PHOTO_DIR": str(self.instance / "photos"), "TRACKER_ENV": "testing", "PYTHONPATH": str(REPO)}
        log = open(self.instance / "gunicorn.log", "ab")  # noqa: SIM115 (the child keeps it)
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [str(gunicorn), "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}", "--timeout", "60",
             "wsgi:app"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.starts += 1
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if request(self.port, "GET", "/api/v1/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not come back")

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        time.sleep(0.3)  # let the kernel release the port

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class Phone:
    """One device: uploads each batch's photos, then pushes the batch, retrying the same batch id until answered."""

    def __init__(self, server: Server, index: int, token: str, records: list[dict[str, Any]],
                 photos: dict[str, bytes]) -> None:
        self.server, self.device, self.token = server, f"phone-{index}", token
        self.records, self.photos = records, photos
        self.retries = 0
        self.batches_done = 0
        self.answers: dict[str, str] = {}  # record id -> last result
        self.error: str | None = None

    def _call(self, method: str, path: str, body: bytes, headers: dict[str, str], ok: tuple[int, ...]) -> bytes:
        while True:
            try:
                status, data = request(self.server.port, method, path, body,
                                       {"Authorization": f"Bearer {self.token}", **headers})
            except (OSError, http.client.HTTPException):
                status, data = 0, b""
            if status in ok:
                return data
            if status not in (0, 500, 502, 503):
                raise AssertionError(f"{method} {path}: {status} {data[:300]!r}")
            self.retries += 1
            time.sleep(0.05 + random.random() * 0.2)

    def push(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            for photo in record["photos"]:
                data = self.photos[photo["sha256"]]
                self._call("PUT", f"/api/v1/photos/{photo['sha256']}", data, {"Content-Type": "image/jpeg"},
                           (200, 201))
        body = json.dumps({"device_id": self.device, "batch_id": str(uuid.uuid4()), "households": records}).encode()
        answer = json.loads(self._call("POST", "/api/v1/sync/push", body, {"Content-Type": "application/json"}, (200,)))
        for result in answer["results"]:
            self.answers[result["id"]] = result["result"]
            assert result["result"] in ("created", "updated", "unchanged"), result
        self.batches_done += 1

    def run(self) -> None:
        try:
            for start in range(0, len(self.records), BATCH):
                self.push(self.records[start:start + BATCH])
            edits = [{**r, "base_revision": 1, "members": r["members"] + 1, "note": "sửa sau khi đồng bộ",
                      "captured_at": "2025-04-20T10:00:00+07:00"} for r in self.records[:EDITS_PER_DEVICE]]
            for start in range(0, len(edits), BATCH):
                self.push(edits[start:start + BATCH])
        except BaseException as exc:  # reported by the test
            self.error = repr(exc)


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_and_duplicates_nothing(app: Flask, tmp_path: Path) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        pytest.skip("the crash test runs against PostgreSQL, the production database")
    rng = random.Random(20250519)
    load_communes(tmp_path)
    make_user("officer", "commune_officer", [COMMUNE_1])
    db.session.remove()
    server = Server(url, tmp_path / "live")
    (tmp_path / "live").mkdir()
    server.start()
    try:
        phones = []
        per_device = RECORDS // DEVICES
        for index in range(DEVICES):
            status, body = request(server.port, "POST", "/api/v1/auth/token", json.dumps(
                {"username": "officer", "password": PASSWORD, "device_id": f"phone-{index}"}).encode(),
                {"Content-Type": "application/json"})
            assert status == 201, body
            photos: dict[str, bytes] = {}
            records = []
            for n in range(per_device):
                record = household(members=1 + n % 9, note=f"máy {index} hộ {n}")
                if n % BATCH < PHOTOS_PER_BATCH:
                    data = image_bytes(size=(320, 240))
                    sha = hashlib.sha256(data).hexdigest()
                    photos[sha] = data
                    record["photos"] = [{"sha256": sha, "stage": "before", "taken_at": "2025-01-05T08:00:00+07:00"}]
                records.append(record)
            phones.append(Phone(server, index, json.loads(body)["token"], records, photos))

        threads = [threading.Thread(target=phone.run) for phone in phones]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        # Kills are placed by progress, not by the clock, so that a fast or a
        # slow machine sees the same number of them, spread over the run.
        total = sum(-(-len(p.records) // BATCH) + -(-EDITS_PER_DEVICE // BATCH) for p in phones)
        marks = sorted(rng.uniform(0.05, 0.85) for _ in range(KILLS))
        kills = 0
        while kills < KILLS and any(t.is_alive() for t in threads):
            if sum(p.batches_done for p in phones) < marks[kills] * total:
                time.sleep(0.01)
                continue
            time.sleep(rng.uniform(0.0, 0.3))  # land inside a request, not between batches
            server.kill()
            kills += 1
            server.start()
        for thread in threads:
            thread.join(timeout=600)
        elapsed = time.monotonic() - started
        errors = [p.error for p in phones if p.error]
        assert not errors, errors
        assert kills == KILLS, f"the phones finished before {KILLS} kills ({kills}); raise CRASH_RECORDS"
        for phone in phones:  # a kill between a photo's 201 and its thumbnail job leaves none: made on demand
            for sha in phone.photos:
                status, body = request(server.port, "GET", f"/api/v1/photos/{sha}/thumbnail",
                                       headers={"Authorization": f"Bearer {phone.token}"})
                assert status == 200 and body[:2] == b"\xff\xd8", (sha, status)
    finally:
        server.stop()

    db.session.remove()
    expected_ids = {r["id"] for p in phones for r in p.records}
    edited = {r["id"] for p in phones for r in p.records[:EDITS_PER_DEVICE]}
    photos_expected = {sha for p in phones for sha in p.photos}
    print(f"crash test: {len(expected_ids)} records, {len(edited)} edits, {len(photos_expected)} photos, "
          f"{DEVICES} devices, {kills} SIGKILLs, {sum(p.retries for p in phones)} retried calls, {elapsed:.1f}s")

    households = dict(db.session.execute(select(Household.id, Household.revision)).all())
    assert set(households) == expected_ids
    assert all(households[i] == (2 if i in edited else 1) for i in expected_ids)
    revisions = db.session.execute(select(HouseholdRevision.household_id, HouseholdRevision.revision,
                                          HouseholdRevision.superseded_at, HouseholdRevision.data)).all()
    assert len(revisions) == len(expected_ids) + len(edited)
    assert Counter((r.household_id, r.revision) for r in revisions).most_common(1)[0][1] == 1
    current = Counter(r.household_id for r in revisions if r.superseded_at is None)
    assert set(current) == expected_ids and set(current.values()) == {1}  # no partial record, one current each
    sent = {r["id"]: r for p in phones for r in p.records}
    for row in revisions:
        if row.superseded_at is None:
            want = sent[row.household_id]["members"] + (1 if row.household_id in edited else 0)
            assert row.data["members"] == want and row.data["household_head"] == sent[row.household_id]["household_head"]

    stored = set(db.session.scalars(select(Photo.sha256)))
    assert stored == photos_expected
    store = PhotoStorage(LocalBlobs(tmp_path / "live" / "photos"))
    for sha in stored:
        assert hashlib.sha256(store.read(sha)).hexdigest() == sha

    events = db.session.execute(select(AuditEvent.action, AuditEvent.object_id, AuditEvent.details)
                                .where(AuditEvent.object_type == "household")).all()
    audited = Counter((e.object_id, e.details["revision"]) for e in events)
    assert set(audited) == {(r.household_id, r.revision) for r in revisions} and set(audited.values()) == {1}
    assert Counter(e.action for e in events) == {"household.created": len(expected_ids),
                                                  "household.updated": len(edited)}
    photo_events = Counter(db.session.scalars(select(AuditEvent.object_id).where(AuditEvent.action == "photo.store")))
    assert set(photo_events) == photos_expected and set(photo_events.values()) == {1}
    batches = db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "sync.push"))
    assert batches == DEVICES * (per_device // BATCH + EDITS_PER_DEVICE // BATCH)
