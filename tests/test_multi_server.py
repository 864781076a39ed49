"""Two application servers behind nginx, sharing PostgreSQL, Redis and an S3 server.

Each gunicorn has its own local folder; photos live in the shared bucket
(moto's S3 server on loopback). Phones push records and upload photos in
pieces through nginx, which spreads their requests over both servers; one
upload is cut off on one server and resumed on the other, one batch is sent
twice. At the end nothing is lost or duplicated, and both servers report the
same figures. One job worker serves both: it makes every thumbnail, and an
export job started through one server is followed and fetched through the other.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.job_support import Worker, queue_settings, wait_for  # noqa: F401 (the fixture)
from tests.storage_support import MotoServer, moto_fixture  # noqa: F401 (the fixture)
from tests.sync_support import COMMUNE_1, LiveServer, bearer, free_port, household, image_bytes, load_communes, make_user
from tracker.extensions import db
from tracker.households.models import Household, HouseholdRevision, Photo

pytestmark = pytest.mark.slow
PHONES, BATCHES, RECORDS = 4, 3, 20
PIECE = 64 * 1024

NGINX_CONF = """
user root;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {work}/access.log;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    upstream tracker_app {{ server 127.0.0.1:{a}; server 127.0.0.1:{b}; }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 16m;
        client_body_buffer_size 1m;
        client_body_timeout 5s;
        proxy_request_buffering on;
        proxy_buffering on;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
        location / {{ proxy_pass http://tracker_app; }}
    }}
}}
"""


class Nginx:
    def __init__(self, work: Path, upstreams: tuple[int, int]) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            pytest.fail("nginx is not installed: apt-get install nginx (.ci/run does)")
        work.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        (work / "nginx.conf").write_text(NGINX_CONF.format(work=work, a=upstreams[0], b=upstreams[1], port=self.port))
        self.work = work
        self.process = subprocess.Popen([binary, "-p", str(work), "-c", str(work / "nginx.conf"), "-g", "daemon off;"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"nginx did not start: {(work / 'error.log').read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def cluster(app: Flask, tmp_path: Path, moto: MotoServer,
            queue_settings: dict[str, str]) -> Iterator[dict[str, Any]]:  # noqa: F811
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        pytest.skip("several servers share PostgreSQL")
    load_communes(tmp_path)
    make_user("officer", "commune_officer", [COMMUNE_1])
    make_user("boss", "manager")
    db.session.remove()
    env = {**moto.settings(moto.new_bucket()), "PROXY_HOPS": "1", **queue_settings}
    servers = [LiveServer(url, tmp_path / f"server-{i}", workers=2, env=env) for i in range(2)]
    proxy = Nginx(tmp_path / "nginx", (servers[0].port, servers[1].port))
    worker = Worker(url, tmp_path / "worker", {**env, "PROXY_HOPS": "0"})
    try:
        yield {"servers": servers, "proxy": proxy, "worker": worker}
    finally:
        worker.stop()
        proxy.stop()
        for server in servers:
            server.stop()


def _request(port: int, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


def _token(port: int, name: str, device: str) -> str:
    from tests.sync_support import PASSWORD

    status, _, body = _request(port, "POST", "/api/v1/auth/token", json.dumps(
        {"username": name, "password": PASSWORD, "device_id": device}).encode(), {"Content-Type": "application/json"})
    assert status == 201, body
    return json.loads(body)["token"]


def _upload_in_pieces(port: int, auth: str, data: bytes) -> None:
    """What a phone does: HEAD, then PATCH pieces from the offset held, until done."""
    name = hashlib.sha256(data).hexdigest()
    for _ in range(200):
        status, headers, _ = _request(port, "HEAD", f"/api/v1/photos/{name}", headers=bearer(auth))
        held = int(headers["upload-offset"]) if status == 200 else 0
        if held == len(data):
            return
        status, headers, body = _request(port, "PATCH", f"/api/v1/photos/{name}", data[held:held + PIECE], {
            **bearer(auth), "Tus-Resumable": "1.0.0", "Upload-Offset": str(held), "Upload-Length": str(len(data)),
            "Content-Type": "application/offset+octet-stream"})
        assert status in (204, 409), (status, body)
    raise AssertionError("the upload never finished")


def _cut_piece(port: int, auth: str, name: str, data: bytes, held: int) -> None:
    """A piece whose connection drops half-way."""
    piece = data[held:held + PIECE]
    head = (f"PATCH /api/v1/photos/{name} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {auth}\r\n"
            f"Tus-Resumable: 1.0.0\r\nUpload-Offset: {held}\r\nUpload-Length: {len(data)}\r\n"
            f"Content-Type: application/offset+octet-stream\r\nContent-Length: {len(piece)}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head + piece[:len(piece) // 2])
        time.sleep(0.2)


def _phone(port: int, index: int, out: dict[str, Any]) -> None:
    try:
        auth = _token(port, "officer", f"phone-{index}")
        records, photos = [], []
        for _ in range(BATCHES):
            data = image_bytes(size=(700, 500))
            sha = hashlib.sha256(data).hexdigest()
            batch = [household(photos=[{"sha256": sha, "stage": "before", "taken_at": "2025-01-05T08:00:00+07:00"}]
                               if i == 0 else []) for i in range(RECORDS)]
            payload = json.dumps({"device_id": f"phone-{index}", "batch_id": str(uuid.uuid4()),
                                  "households": batch}).encode()
            for _ in range(2):  # the answer is "lost": the phone sends the same batch again
                status, _, body = _request(port, "POST", "/api/v1/sync/push", payload,
                                           {**bearer(auth), "Content-Type": "application/json"})
                assert status == 200, body
            _cut_piece(port, auth, sha, data, 0)
            _upload_in_pieces(port, auth, data)
            records += [r["id"] for r in batch]
            photos.append(sha)
        out[index] = (records, photos)
    except BaseException as exc:  # reported by the main thread
        out[index] = exc


def test_phones_through_two_servers_lose_nothing_and_duplicate_nothing(cluster: dict[str, Any]) -> None:
    a, b = cluster["servers"]
    proxy = cluster["proxy"]
    # An upload cut off on server A resumes on server B (the store is shared, the folders are not).
    auth = _token(a.port, "officer", "phone-x")
    data = image_bytes(size=(800, 600))
    name, third = hashlib.sha256(data).hexdigest(), len(data) // 3
    status, headers, _ = _request(a.port, "PATCH", f"/api/v1/photos/{name}", data[:third], {
        **bearer(auth), "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Upload-Length": str(len(data)),
        "Content-Type": "application/offset+octet-stream"})
    assert status == 204
    _upload_in_pieces(b.port, auth, data)

    results: dict[int, Any] = {}
    threads = [threading.Thread(target=_phone, args=(proxy.port, i, results)) for i in range(PHONES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    failures = [r for r in results.values() if isinstance(r, BaseException)]
    assert not failures and len(results) == PHONES, (failures, a.output(), b.output())

    db.session.remove()
    expected = {rid for records, _ in results.values() for rid in records}
    photos = {sha for _, shas in results.values() for sha in shas} | {name}
    assert set(db.session.scalars(select(Household.id))) == expected
    assert db.session.scalar(select(func.count()).select_from(HouseholdRevision)) == len(expected)
    assert set(db.session.scalars(select(Photo.sha256))) == photos
    boss_a, boss_b = _token(a.port, "boss", "desk-a"), _token(b.port, "boss", "desk-b")
    time.sleep(1.1)  # known_at is to the second: one past the last push
    known_at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())  # after every push: one moment for all
    for level in ("commune", "province"):
        path = f"/api/v1/progress?level={level}&known_at={known_at.replace('+', '%2B')}"
        figures = [_request(port, "GET", path, headers=bearer(token))
                   for port, token in ((a.port, boss_a), (b.port, boss_b), (proxy.port, boss_a))]
        assert all(status == 200 for status, _, _ in figures)
        assert figures[0][2] == figures[1][2] == figures[2][2], [f[2][:300] for f in figures]
        assert json.loads(figures[0][2])["rows"], figures[0][2][:300]
    for sha in photos:  # every photo readable through either server, byte for byte
        got = [_request(port, "GET", f"/api/v1/photos/{sha}", headers=bearer(boss_a))[2] for port in (a.port, b.port)]
        assert hashlib.sha256(got[0]).hexdigest() == sha and got[0] == got[1]
    forwarded = (proxy.work / "access.log").read_text()
    assert forwarded.count("PATCH") >= PHONES * BATCHES


def test_a_job_started_through_one_server_is_followed_through_the_other(cluster: dict[str, Any]) -> None:
    a, b = cluster["servers"]
    worker = cluster["worker"]
    auth = _token(a.port, "officer", "phone-j")
    data = image_bytes(size=(900, 700))
    name = hashlib.sha256(data).hexdigest()
    status, _, body = _request(a.port, "PUT", f"/api/v1/photos/{name}", data, {**bearer(auth),
                                                                             "Content-Type": "image/jpeg"})
    assert status == 201, body
    wait_for(lambda: _request(b.port, "GET", f"/api/v1/photos/{name}/thumbnail", headers=bearer(auth))[0] == 200,
             60, "the worker's thumbnail, read through the other server", worker)
    status, _, body = _request(a.port, "POST", "/api/v1/sync/push", json.dumps({
        "device_id": "phone-j", "batch_id": str(uuid.uuid4()), "households": [household() for _ in range(3)],
    }).encode(), {**bearer(auth), "Content-Type": "application/json"})
    assert status == 200, body
    boss = _token(a.port, "boss", "desk-j")
    time.sleep(1.1)  # known_at is to the second: a second past the push, so the push is known then
    known_at = time.strftime("%Y-%m-%dT%H:%M:%S%%2B00:00", time.gmtime())
    status, headers, body = _request(a.port, "POST", f"/api/v1/export/households.csv/job?known_at={known_at}",
                                     headers=bearer(boss))
    assert status == 202, body
    job = json.loads(body)

    def finished_on_b() -> dict[str, Any] | None:
        answer = json.loads(_request(b.port, "GET", headers["location"], headers=bearer(boss))[2])
        return answer if answer["status"] in ("done", "failed") else None

    done = wait_for(finished_on_b, 60, "the export job, seen through the other server", worker)
    assert done["id"] == job["id"] and done["status"] == "done" and done["progress"]["total"] == 3
    status, _, exported = _request(b.port, "GET", done["links"]["file"], headers=bearer(boss))
    assert status == 200
    status, _, inline = _request(a.port, "GET", f"/api/v1/export/households.csv?known_at={known_at}",
                                 headers=bearer(boss))
    assert status == 200
    assert _without_export_time(exported) == _without_export_time(inline)
    other = _token(b.port, "officer", "phone-k")
    assert _request(b.port, "GET", headers["location"], headers=bearer(other))[0] == 403


def _without_export_time(data: bytes) -> list[str]:
    return [line for line in data.decode("utf-8-sig").splitlines() if not line.startswith(("Xuất lúc", "Exported at"))]
