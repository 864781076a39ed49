"""Uploads on the wire, through a real gunicorn: cut off, endless, stalled, or killed half-way."""
from __future__ import annotations

import hashlib
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.sync_support import COMMUNE_1, LiveServer, bearer, image_bytes, load_communes, make_user
from tracker.extensions import db
from tracker.households.models import Photo

LIMIT = 200_000


@pytest.fixture
def live(app: Flask, tmp_path: Path) -> Iterator[LiveServer]:
    load_communes(tmp_path)
    make_user("officer", "commune_officer", [COMMUNE_1])
    db.session.remove()
    os.environ["PHOTO_MAX_BYTES"] = str(LIMIT)
    try:
        server = LiveServer(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "live", workers=2)
    finally:
        del os.environ["PHOTO_MAX_BYTES"]
    try:
        yield server
    finally:
        server.stop()


def _put_head(auth: str, name: str, extra: str) -> bytes:
    return (f"PUT /api/v1/photos/{name} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
            f"Authorization: Bearer {auth}\r\n{extra}\r\n").encode()


def _answer(sock: socket.socket) -> tuple[int, bytes]:
    sock.settimeout(20)
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    return int(received.split(b" ", 2)[1]), received


def _resume(live: LiveServer, auth: str, name: str, data: bytes) -> int:
    """What a phone does on retry: ask what is held, send the rest."""
    status, headers, _ = live.request("HEAD", f"/api/v1/photos/{name}", headers=bearer(auth))
    held = int(headers["upload-offset"]) if status == 200 else 0
    status, headers, body = live.request("PATCH", f"/api/v1/photos/{name}", data[held:], {
        **bearer(auth), "Tus-Resumable": "1.0.0", "Upload-Offset": str(held), "Upload-Length": str(len(data)),
        "Content-Type": "application/offset+octet-stream"})
    assert status == 204, (status, body, live.output())
    return held


def test_cut_off_put_is_no_server_error(live: LiveServer) -> None:
    auth = live.token("officer", "phone-0")
    data = image_bytes(size=(200, 200))
    name = hashlib.sha256(data).hexdigest()
    with socket.create_connection(("127.0.0.1", live.port)) as sock:
        sock.sendall(_put_head(auth, name, f"Content-Length: {len(data)}\r\n") + data[:len(data) // 2])
        time.sleep(0.3)
        sock.shutdown(socket.SHUT_RDWR)
    time.sleep(1.0)
    assert _resume(live, auth, name, data) > 0
    log = live.output()
    assert "Traceback" not in log and "ERROR" not in log and "Error handling request" not in log, log


def test_chunked_body_over_the_limit_is_413(live: LiveServer) -> None:
    auth = live.token("officer", "phone-0")
    with socket.create_connection(("127.0.0.1", live.port)) as sock:
        sock.sendall(_put_head(auth, "ab" * 32, "Transfer-Encoding: chunked\r\n"))
        piece = b"x" * 16384
        try:
            for _ in range(LIMIT // len(piece) + 4):  # never says it ends
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, raw = _answer(sock)
    assert status == 413, raw
    assert b"application/json" in raw


def test_stalled_upload_does_not_block_the_phones_retry(live: LiveServer) -> None:
    auth = live.token("officer", "phone-0")
    data = image_bytes(size=(200, 200))
    name = hashlib.sha256(data).hexdigest()
    stalled = socket.create_connection(("127.0.0.1", live.port))
    try:  # the first attempt hangs half-way: its connection stays open, no byte more arrives
        stalled.sendall(_put_head(auth, name, f"Content-Length: {len(data)}\r\n") + data[:len(data) // 2])
        time.sleep(0.5)
        status, headers, body = live.request("PUT", f"/api/v1/photos/{name}", data,
                                             {**bearer(auth), "Content-Type": "image/jpeg"})
        assert status == 201, (status, body)
    finally:
        stalled.close()


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def test_upload_whose_worker_was_killed_resumes_on_retry(live: LiveServer) -> None:
    auth = live.token("officer", "phone-0")
    data = image_bytes(size=(300, 300))
    name = hashlib.sha256(data).hexdigest()
    assert _resume_first_half(live, auth, name, data)
    with socket.create_connection(("127.0.0.1", live.port)) as sock:
        held = len(data) // 2
        sock.sendall(
            f"PATCH /api/v1/photos/{name} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {auth}\r\n"
            f"Tus-Resumable: 1.0.0\r\nUpload-Offset: {held}\r\nContent-Type: application/offset+octet-stream\r\n"
            f"Content-Length: {len(data) - held}\r\n\r\n".encode() + data[held:held + 1000])
        time.sleep(0.5)
        before = _workers(live.process.pid)
        for pid in before:  # every worker, so the one holding the upload dies with its bytes half-read
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not set(_workers(live.process.pid)) - set(before):
        time.sleep(0.2)
    time.sleep(1.0)
    for _ in range(2):  # the retry, and the retry of a phone that did not hear the answer
        _resume(live, auth, name, data)
    status, _, fetched = live.request("GET", f"/api/v1/photos/{name}", headers=bearer(auth))
    assert status == 200 and fetched == data
    db.session.remove()
    assert db.session.get(Photo, name).size_bytes == len(data)


def _resume_first_half(live: LiveServer, auth: str, name: str, data: bytes) -> bool:
    status, headers, body = live.request("PATCH", f"/api/v1/photos/{name}", data[:len(data) // 2], {
        **bearer(auth), "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Upload-Length": str(len(data)),
        "Content-Type": "application/offset+octet-stream"})
    return status == 204 and headers["upload-offset"] == str(len(data) // 2)
