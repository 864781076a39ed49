"""Web sessions: what the cookie holds, and the ways every session of a user ends."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.helpers import json_error
from tests.sync_support import PASSWORD, bearer, load_communes, make_user, token
from tracker.accounts.models import User
from tracker.audit.models import AuditEvent
from tracker.extensions import db

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
NEW_PASSWORD = "another long password"


@pytest.fixture
def officer(app: Flask, tmp_path: Path) -> int:
    load_communes(tmp_path)
    return make_user("officer", "commune_officer", ["90001"])


def csrf(client: FlaskClient, url: str) -> str:
    found = CSRF.search(client.get(url).get_data(as_text=True))
    assert found, url
    return found.group(1)


def web_sign_in(app: Flask, password: str = PASSWORD) -> FlaskClient:
    browser = app.test_client()
    answer = browser.post("/login", data={"username": "officer", "password": password,
                                          "csrf_token": csrf(browser, "/login")})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return browser


def signed_in(browser: FlaskClient) -> bool:
    answer = browser.get("/search")
    assert answer.status_code in (200, 302)
    return answer.status_code == 200


def session_of(app: Flask, browser: FlaskClient) -> dict:
    cookie = browser.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None
    return dict(app.session_interface.get_signing_serializer(app).loads(cookie.value))


def test_the_session_cookie_holds_no_fragment_of_the_password_hash(app: Flask, officer: int) -> None:
    browser = web_sign_in(app)
    stored = session_of(app, browser)
    password_hash = db.session.get(User, officer).password_hash
    for value in stored.values():
        text = str(value)
        pieces = {text[i:i + 6] for i in range(max(len(text) - 5, 0))}
        assert not any(piece in password_hash for piece in pieces), (value, "shares text with the password hash")
    assert stored["uid"] == officer and stored["epoch"] == 0


def test_signing_out_everywhere_ends_every_browser_s_session(app: Flask, officer: int) -> None:
    here, there = web_sign_in(app), web_sign_in(app)
    kept = here.get_cookie("session").value
    assert signed_in(here) and signed_in(there)
    assert here.post("/logout/everywhere").status_code == 400  # no CSRF token
    answer = here.post("/logout/everywhere", data={"csrf_token": csrf(here, "/search")})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login")
    assert not signed_in(here) and not signed_in(there)
    replay = app.test_client()
    replay.set_cookie("session", kept)
    assert not signed_in(replay)  # the old cookie, sent again, is refused too
    assert signed_in(web_sign_in(app))  # a new sign-in works
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.sign_out_everywhere"))
    assert event is not None and event.actor_id == officer


def test_the_sign_out_command_ends_every_browser_s_session(app: Flask, runner, officer: int) -> None:
    browser = web_sign_in(app)
    phone = token(app.test_client(), "officer")
    result = runner.invoke(args=["users", "sign-out", "officer"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert not signed_in(browser)
    assert app.test_client().get("/api/v1/sync/pull", headers=bearer(phone)).status_code == 200  # phones keep theirs
    assert runner.invoke(args=["users", "sign-out", "nobody"]).exit_code != 0


def test_a_new_password_ends_every_session_and_token(app: Flask, runner, officer: int) -> None:
    browser = web_sign_in(app)
    phone = token(app.test_client(), "officer")
    short = runner.invoke(args=["users", "password", "officer"], input="short\n")
    assert short.exit_code != 0 and "at least" in short.output
    assert signed_in(browser)
    result = runner.invoke(args=["users", "password", "officer"], input=NEW_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "1 token(s) revoked" in result.output
    db.session.expire_all()
    assert not signed_in(browser)
    json_error(app.test_client().get("/api/v1/sync/pull", headers=bearer(phone)), 401)
    refused = app.test_client()
    answer = refused.post("/login", data={"username": "officer", "password": PASSWORD,
                                          "csrf_token": csrf(refused, "/login")})
    assert answer.status_code == 401
    assert signed_in(web_sign_in(app, NEW_PASSWORD))
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.password")) is not None
