"""Signing in, tokens (expiry, revocation), rate limiting and the account CLI."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from tests.helpers import json_error as _error
from tests.sync_support import PASSWORD, bearer, load_communes, make_user, sign_in, token
from tracker.accounts.models import ApiToken, LoginAttempt, User
from tracker.app import create_app
from tracker.audit.models import AuditEvent
from tracker.dbtypes import utcnow
from tracker.extensions import db


@pytest.fixture
def officer(app: Flask, tmp_path: Path) -> int:
    load_communes(tmp_path)
    return make_user("officer", "commune_officer", ["90001"])


def test_sign_in_returns_token_expiry_and_user(client, officer: int) -> None:
    response = sign_in(client, "officer")
    assert response.status_code == 201
    body = response.get_json()
    assert len(body["token"]) >= 40
    assert body["expires_at"].endswith("+00:00")
    assert body["user"] == {"id": officer, "username": "officer", "role": "commune_officer", "areas": ["90001"]}
    stored = db.session.scalar(select(ApiToken))
    assert stored.token_hash != body["token"] and len(stored.token_hash) == 64  # only the hash is kept
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "token.issue"))
    assert audit.device_id == "phone-1" and audit.actor_id == officer


def test_wrong_password_is_401(client, officer: int) -> None:
    _error(sign_in(client, "officer", password="wrong-password"), 401, "invalid_credentials")
    _error(sign_in(client, "nobody"), 401, "invalid_credentials")


def test_token_opens_protected_views_and_missing_token_is_401(client, officer: int) -> None:
    response = client.get("/api/v1/sync/pull")
    _error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    _error(client.get("/api/v1/sync/pull", headers=bearer("not-a-token")), 401)
    assert client.get("/api/v1/sync/pull", headers=bearer(token(client, "officer"))).status_code == 200


def test_expired_token_is_401(client, officer: int) -> None:
    value = token(client, "officer")
    db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    error = _error(client.get("/api/v1/sync/pull", headers=bearer(value)), 401)
    assert "expired" in error["message"]


def test_revoked_device_is_401_and_cannot_sign_in_again(client, runner, officer: int) -> None:
    value = token(client, "officer", device="lost-phone")
    other = token(client, "officer", device="new-phone")
    result = runner.invoke(args=["devices", "revoke", "lost-phone"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    error = _error(client.get("/api/v1/sync/pull", headers=bearer(value)), 401)
    assert "revoked" in error["message"]
    assert client.get("/api/v1/sync/pull", headers=bearer(other)).status_code == 200
    _error(sign_in(client, "officer", device="lost-phone"), 403, "device_revoked")
    assert runner.invoke(args=["devices", "revoke", "no-such-phone"]).exit_code != 0


def test_sign_out_revokes_the_token(client, officer: int) -> None:
    value = token(client, "officer")
    response = client.delete("/api/v1/auth/token", headers=bearer(value))
    assert response.status_code == 200 and response.get_json() == {"revoked": True}
    _error(client.get("/api/v1/sync/pull", headers=bearer(value)), 401)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "token.revoke")) is not None


def test_failed_sign_ins_are_rate_limited_across_workers(app: Flask, client, officer: int, tmp_path: Path) -> None:
    app.config["LOGIN_RATE_LIMIT"] = 3
    # A second app on the same database stands in for another worker process.
    other_worker = create_app({**app.config, "INSTANCE_DIR": str(tmp_path / "w2")})
    for attempt in range(3):
        target = client if attempt % 2 == 0 else other_worker.test_client()
        _error(sign_in(target, "officer", password="wrong-password"), 401)
    response = sign_in(client, "officer")  # even the right password waits now
    error = _error(response, 429, "rate_limited")
    assert "try again" in error["message"]
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    _error(sign_in(other_worker.test_client(), "officer"), 429)
    # Once the window has passed, signing in works again.
    db.session.execute(update(LoginAttempt).values(attempted_at=utcnow() - timedelta(minutes=16)))
    db.session.commit()
    assert sign_in(client, "officer").status_code == 201


def test_success_resets_the_count(app: Flask, client, officer: int) -> None:
    app.config["LOGIN_RATE_LIMIT"] = 3
    for _ in range(2):
        _error(sign_in(client, "officer", password="wrong-password"), 401)
    assert sign_in(client, "officer").status_code == 201
    for _ in range(2):
        _error(sign_in(client, "officer", password="wrong-password"), 401)
    assert sign_in(client, "officer").status_code == 201


@pytest.mark.parametrize("body, field", [
    ({"username": "officer", "password": PASSWORD}, "device_id"),
    ({"username": "officer", "password": PASSWORD, "device_id": "p", "extra": 1}, "extra"),
    ({"username": "", "password": PASSWORD, "device_id": "p"}, "username"),
])
def test_sign_in_body_is_validated(client, officer: int, body: dict, field: str) -> None:
    error = _error(client.post("/api/v1/auth/token", json=body), 422, "validation_error")
    assert field in error["fields"]


def test_sign_in_malformed_json_and_wrong_type(client, officer: int) -> None:
    _error(client.post("/api/v1/auth/token", data="{not json", content_type="application/json"), 400)
    _error(client.post("/api/v1/auth/token", data="username=officer", content_type="application/x-www-form-urlencoded"),
           415, "unsupported_media_type")


def test_users_create_reads_password_from_stdin(runner, app: Flask, client) -> None:
    result = runner.invoke(args=["users", "create", "Cầm Thị Lan", "--role", "commune_officer",
                                 "--commune", "90001", "--commune", "90002"], input="một-mật-khẩu-dài\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "Cầm Thị Lan"))
    assert user.password_hash != "một-mật-khẩu-dài" and user.password_hash.startswith(("scrypt:", "pbkdf2:"))
    assert sorted(a.code for a in user.areas) == ["90001", "90002"]
    assert sign_in(client, "Cầm Thị Lan", password="một-mật-khẩu-dài").status_code == 201
    again = runner.invoke(args=["users", "create", "Cầm Thị Lan", "--role", "viewer"], input="một-mật-khẩu-dài\n")
    assert again.exit_code != 0 and "already exists" in again.output
    short = runner.invoke(args=["users", "create", "x", "--role", "viewer"], input="short\n")
    assert short.exit_code != 0
    no_commune = runner.invoke(args=["users", "create", "y", "--role", "commune_officer"], input="long-enough-pw\n")
    assert no_commune.exit_code != 0
