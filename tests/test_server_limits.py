"""JSON under /api even from the server in front: what gunicorn answers itself uses the API's error shape.

Through a real gunicorn (``gunicorn.conf.py`` is read from the project folder):
request lines and header fields too long, too many header fields, malformed
request lines and headers. URLs and tokens longer than gunicorn's defaults
but within its raised limits reach the app, which answers as usual.
"""
from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.sync_support import LiveServer, make_user


@pytest.fixture
def server(app: Flask, tmp_path: Path) -> Iterator[LiveServer]:
    make_user("viewer", "viewer", ["90001"])
    live = LiveServer(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "live", workers=1)
    try:
        yield live
    finally:
        live.stop()


def _raw(server: LiveServer, data: bytes) -> tuple[int, dict[str, str], bytes]:
    chunks = []
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        try:  # gunicorn answers and closes as soon as it refuses, maybe before reading everything
            sock.sendall(data)
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    assert chunks, "no answer before the connection was reset"
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def _request(path: str, headers: dict[str, str] | None = None, method: str = "GET") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _json_error(answer: tuple[int, dict[str, str], bytes], status: int) -> dict[str, str]:
    code, headers, body = answer
    assert code == status, (code, body[:300])
    assert headers["content-type"].startswith("application/json"), headers
    return json.loads(body)["error"]


def test_what_gunicorn_refuses_is_answered_in_the_json_shape(server: LiveServer) -> None:
    cases = [
        (_request("/api/v1/sync/pull", {"Authorization": "Bearer " + "a" * 40_000}), 431),
        (_request("/api/v1/progress?as_of=" + "9" * 9000), 414),
        (_request("/api/v1/" + "x" * 20_000), 414),
        (_request("/api/v1/sync/pull", {f"X-Extra-{i}": "1" for i in range(150)}), 431),
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /api/v1/health HTTP/9.9\r\nHost: x\r\n\r\n", 400),
        (_request("/api/v1/health", {"Bad Header": "x"}), 400),
        (b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n", 400),
    ]
    for raw, status in cases:
        error = _json_error(_raw(server, raw), status)
        assert error["code"] and error["message"], error
    assert "Traceback" not in server.output()


def test_urls_and_tokens_past_gunicorns_defaults_reach_the_app(server: LiveServer) -> None:
    for size in (5000, 9000, 16_000):  # gunicorn's default stops header fields at 8190 bytes
        answer = _raw(server, _request("/api/v1/sync/pull", {"Authorization": "Bearer " + "b" * size}))
        assert _json_error(answer, 401)["code"] == "unauthorized", size
    error = _json_error(_raw(server, _request("/api/v1/progress?as_of=" + "9" * 5000)), 401)
    assert error["code"] == "unauthorized"


def test_options_under_api_answers_json(server: LiveServer) -> None:
    for path in ("/api/v1/sync/push", "/api/v1/health", "/api/v1/households/00000000-0000-0000-0000-000000000000",
                 "/api/v1/no-such-thing"):
        code, headers, body = _raw(server, _request(path, method="OPTIONS"))
        assert code in (200, 404), (path, code)
        assert headers["content-type"].startswith("application/json"), (path, headers)
        json.loads(body)
