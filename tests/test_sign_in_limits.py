"""Sign-in limits that hold: under concurrency, across a success, and on the pages as on the API.

The limit is ``LOGIN_RATE_LIMIT`` failures per account and ten times that
per address in 15 minutes (README, "Sync").
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.sync_support import PASSWORD, LiveServer, make_user, sign_in, together
from tracker.accounts.models import LoginAttempt
from tracker.extensions import db

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _failures(username: str | None = None) -> int:
    query = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.success.is_(False))
    if username:
        query = query.where(LoginAttempt.username == username)
    db.session.rollback()
    return db.session.scalar(query) or 0


def test_concurrent_wrong_guesses_never_pass_the_limit(app: Flask, tmp_path: Path) -> None:
    make_user("target", "commune_officer", ["90001"])
    limit = app.config["LOGIN_RATE_LIMIT"]
    server = LiveServer(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "live", workers=3)
    try:
        def guess(i: int) -> int:
            body = json.dumps({"username": "target", "password": f"sai-{i}", "device_id": f"p{i}"}).encode()
            status, _headers, _ = server.request("POST", "/api/v1/auth/token", body,
                                                 {"Content-Type": "application/json"})
            return status

        answers = Counter(together(4 * limit, guess))
        right = json.dumps({"username": "target", "password": PASSWORD, "device_id": "p"}).encode()
        after = server.request("POST", "/api/v1/auth/token", right, {"Content-Type": "application/json"})
    finally:
        server.stop()
    assert answers[401] == limit and answers[429] == 3 * limit, (answers, server.output()[-2000:])
    assert _failures("target") == limit
    assert after[0] == 429 and int(after[1]["retry-after"]) > 0


def test_a_success_does_not_reset_the_count_of_the_address(app: Flask, client: FlaskClient) -> None:
    app.config["LOGIN_RATE_LIMIT"] = 2  # 20 failures per address
    make_user("real", "viewer", ["90001"])
    for i in range(19):
        assert sign_in(client, f"nobody{i}", password="sai-mat-khau").status_code == 401
    assert sign_in(client, "real").status_code == 201
    assert sign_in(client, "nobody-else", password="sai-mat-khau").status_code == 401  # the 20th failure
    refused = sign_in(client, "real")
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "rate_limited"
    assert sign_in(client, "nobody-more", password="sai").status_code == 429
    assert _failures() == 20


def _web_login(client: FlaskClient, username: str, password: str) -> int:
    csrf = CSRF.search(client.get("/login").get_data(as_text=True))
    assert csrf
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf.group(1)}).status_code


def test_the_web_sign_in_has_the_per_address_limit_too(app: Flask, client: FlaskClient) -> None:
    app.config["LOGIN_RATE_LIMIT"] = 2
    make_user("web-user", "viewer", ["90001"])
    for i in range(20):
        assert _web_login(client, f"khach{i}", "sai-mat-khau") == 401
    assert _web_login(client, "web-user", PASSWORD) == 429
    # The API and the pages count the same attempts: the address is refused on the API as well.
    assert sign_in(client, "web-user").status_code == 429
    assert _failures() == 20


def test_the_web_and_api_share_the_account_limit(app: Flask, client: FlaskClient) -> None:
    app.config["LOGIN_RATE_LIMIT"] = 3
    make_user("shared", "viewer", ["90001"])
    assert _web_login(client, "shared", "sai-1") == 401
    assert sign_in(client, "shared", password="sai-2").status_code == 401
    assert _web_login(client, "shared", "sai-3") == 401
    assert _web_login(client, "shared", PASSWORD) == 429
    assert sign_in(client, "shared").status_code == 429
