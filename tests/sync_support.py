"""Builders for the sync, auth, photo and household API tests."""
from __future__ import annotations

import copy
import io
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.helpers import two_communes
from tracker.accounts.service import create_user
from tracker.boundaries.service import import_boundary_set
from tracker.extensions import db

PASSWORD = "mật-khẩu-đủ-dài"
COMMUNE_1, COMMUNE_2 = "90001", "90002"
# Points well inside each test commune (0.1° squares from lon 104.0 and 104.1, lat 21.0).
INSIDE_1 = {"lat": 21.05, "lon": 104.05, "accuracy_m": 8.0}
INSIDE_2 = {"lat": 21.05, "lon": 104.15, "accuracy_m": 8.0}


def load_communes(tmp_path: Path, name: str = "test") -> None:
    report = import_boundary_set(name, two_communes(tmp_path / f"{name}-communes.geojson"))
    assert report.status in ("created", "unchanged")
    db.session.commit()


def make_user(name: str, role: str, areas: list[str] | None = None) -> int:
    user = create_user(name, PASSWORD, role, areas or [])
    db.session.commit()
    return user.id


def sign_in(client: Any, name: str, device: str = "phone-1", password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/token", json={"username": name, "password": password, "device_id": device})


def token(client: Any, name: str, device: str = "phone-1") -> str:
    response = sign_in(client, name, device)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def household(**changes: Any) -> dict[str, Any]:
    """A valid record (DESIGN.md shape) in commune 1, with a fresh id."""
    record = {
        "id": str(uuid.uuid4()),
        "base_revision": None,
        "household_head": "Lò Văn Việt",
        "ethnicity": "Thái",
        "category": "poor",
        "members": 5,
        "national_id": "014085001234",
        "village": "Bản Lan Quynh",
        "declared_commune": COMMUNE_1,
        "support_type": "new_build",
        "status": "completed",
        "status_dates": {"approved": "2025-01-20", "started": "2025-02-10", "completed": "2025-04-02"},
        "funding": [{"source": "central_budget", "amount_vnd": 60000000},
                    {"source": "social_fund", "amount_vnd": 10000000}],
        "location": {**INSIDE_1, "captured_at": "2025-02-10T09:12:00+07:00"},
        "photos": [],
        "captured_at": "2025-04-02T16:40:00+07:00",
        "note": "",
    }
    record.update(copy.deepcopy(changes))
    return record


def push(client: Any, auth: str, records: list[dict[str, Any]], *, device: str = "phone-1",
         batch_id: str | None = None) -> Any:
    return client.post("/api/v1/sync/push", headers=bearer(auth), json={
        "device_id": device, "batch_id": batch_id or str(uuid.uuid4()), "households": records,
    })


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["results"]


def one(response: Any) -> dict[str, Any]:
    [result] = results(response)
    return result


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (64, 48), exif: bool = False) -> bytes:
    """A real image made with Pillow (noise, so it does not compress to nothing)."""
    import os

    from PIL import Image

    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    out = io.BytesIO()
    kwargs: dict[str, Any] = {}
    if exif:
        kwargs["exif"] = gps_exif()
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def gps_exif() -> bytes:
    """EXIF with a GPS point in Son La (21.33 N, 103.91 E) and a capture time."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x0132] = "2025:02:10 09:12:00"  # DateTime
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = "2025:02:10 09:12:00"  # DateTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1], gps[3] = "N", "E"
    gps[2] = (21.0, 19.0, 52.32)
    gps[4] = (103.0, 54.0, 37.44)
    return exif.tobytes()


# ---- a real server on loopback ----------------------------------------------------

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """gunicorn serving the app (several worker processes) on a free loopback port."""

    def __init__(self, database_url: str, instance: Path, workers: int = 4,
                 env: dict[str, str] | None = None) -> None:
        import os
        import subprocess
        import sys

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        instance.mkdir(parents=True, exist_ok=True)
        self.log = open(instance / "gunicorn.log", "wb")  # noqa: SIM115 (closed in stop)
        env = {**os.environ, "DATABASE_URL": database_url, "INSTANCE_DIR": str(instance),
               "PHOTO_DIR": str(instance / "photos"), "TRACKER_ENV": "testing", "PYTHONPATH": str(REPO),
               **(env or {})}
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [str(gunicorn), "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}", "--timeout", "60",
             "wsgi:app"], cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 120.0) -> None:
        import time
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.output()}")
            try:
                with urllib.request.urlopen(self.base + "/api/v1/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        output = self.output()
        self.stop()  # no server left behind by a failed start
        raise RuntimeError(f"gunicorn did not start: {output}")

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text("utf-8", "replace")[-4000:]

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def json(self, method: str, path: str, payload: Any, auth: str | None = None) -> tuple[int, Any]:
        import json

        headers = {"Content-Type": "application/json", **(bearer(auth) if auth else {})}
        status, _, body = self.request(method, path, json.dumps(payload).encode(), headers)
        return status, json.loads(body) if body else None

    def token(self, name: str, device: str) -> str:
        status, body = self.json("POST", "/api/v1/auth/token",
                                 {"username": name, "password": PASSWORD, "device_id": device})
        assert status == 201, body
        return body["token"]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except Exception:
            self.process.kill()
            self.process.wait()
        self.log.close()


def together(count: int, work: Callable[[int], Any], timeout: float = 300) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released at the same instant."""
    barrier = threading.Barrier(count)
    answers: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        answers[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return answers


@contextmanager
def serving(app: Any, tmp_path: Path, workers: int, postgres_only: str | None = None,
            prepare: Callable[[], None] | None = None) -> Iterator[LiveServer]:
    """gunicorn over the test database, with the test communes and what ``prepare`` adds.

    ``postgres_only`` names why a test needs concurrent writers, and skips it
    on SQLite. Without ``prepare`` there is one officer of commune 1.
    """
    import pytest

    if postgres_only and not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip(postgres_only)
    load_communes(tmp_path)
    (prepare or (lambda: make_user("officer", "commune_officer", [COMMUNE_1])))()
    db.session.remove()
    server = LiveServer(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "live", workers=workers)
    try:
        yield server
    finally:
        server.stop()
