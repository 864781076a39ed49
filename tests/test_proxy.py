"""Behind nginx: the phone's address and scheme are believed only from a trusted proxy;
HTTPS brings secure cookies and HSTS; photos of the local store are handed to nginx."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from tests.sync_support import COMMUNE_1, PASSWORD, bearer, image_bytes, load_communes, make_user, token
from tracker.accounts.models import LoginAttempt
from tracker.app import create_app
from tracker.extensions import db

PHONE = "203.0.113.7"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _app(app: Flask, **settings: object) -> Flask:
    keys = ("TESTING", "ENV_NAME", "SQLALCHEMY_DATABASE_URI", "INSTANCE_DIR", "PHOTO_DIR")
    return create_app({**{k: app.config[k] for k in keys}, **settings})


def _wrong_sign_in(client, forwarded: dict[str, str]) -> str:
    answer = client.post("/api/v1/auth/token", json={"username": "officer", "password": "wrong", "device_id": "p"},
                         headers=forwarded)
    assert answer.status_code == 401
    db.session.remove()
    return db.session.scalars(select(LoginAttempt.remote_addr).order_by(LoginAttempt.id.desc())).first()


def test_the_phones_address_counts_only_behind_a_trusted_proxy(app: Flask, tmp_path: Path) -> None:
    load_communes(tmp_path)
    make_user("officer", "commune_officer", [COMMUNE_1])
    forwarded = {"X-Forwarded-For": f"10.9.8.7, {PHONE}"}
    with _app(app).app_context() as ctx:
        assert _wrong_sign_in(ctx.app.test_client(), forwarded) == "127.0.0.1"  # a client cannot forge it
    with _app(app, PROXY_HOPS=1).app_context() as ctx:
        assert _wrong_sign_in(ctx.app.test_client(), forwarded) == PHONE  # the address nginx saw
        client = ctx.app.test_client()
        for _ in range(10):  # the limit counts this phone, not every phone behind the proxy
            client.post("/api/v1/auth/token", json={"username": "officer", "password": "wrong", "device_id": "p"},
                        headers={"X-Forwarded-For": PHONE})
        assert client.post("/api/v1/auth/token", headers={"X-Forwarded-For": PHONE}, json={
            "username": "officer", "password": PASSWORD, "device_id": "p"}).status_code == 429
        db.session.remove()


def test_https_brings_secure_cookies_and_hsts(app: Flask) -> None:
    with _app(app, PROXY_HOPS=1, HTTPS=True).app_context() as ctx:
        client = ctx.app.test_client()
        secure = client.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        cookie = secure.headers.get("Set-Cookie", "")
        assert "Secure" in cookie and "HttpOnly" in cookie, cookie
        assert client.get("/api/v1/health", headers={"X-Forwarded-Proto": "https"}).headers[
            "Strict-Transport-Security"]
        assert "Strict-Transport-Security" not in client.get("/login").headers  # plain HTTP: no HSTS
    with _app(app).app_context() as ctx:
        plain = ctx.app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" not in plain.headers
        assert "Secure" not in plain.headers.get("Set-Cookie", "")


def test_local_photos_are_handed_to_nginx_when_configured(app: Flask, tmp_path: Path) -> None:
    load_communes(tmp_path)
    make_user("officer", "commune_officer", [COMMUNE_1])
    with _app(app, PHOTO_ACCEL_PREFIX="/_photos/").app_context() as ctx:
        client = ctx.app.test_client()
        auth = token(client, "officer")
        data = image_bytes(size=(200, 100))
        name = hashlib.sha256(data).hexdigest()
        assert client.put(f"/api/v1/photos/{name}", data=data, headers=bearer(auth),
                          content_type="image/jpeg").status_code == 201
        answer = client.get(f"/api/v1/photos/{name}", headers=bearer(auth))
        assert answer.headers["X-Accel-Redirect"] == f"/_photos/{name[:2]}/{name[2:4]}/{name}"
        assert answer.data == b"" and answer.mimetype == "image/jpeg"
        thumb = client.get(f"/api/v1/photos/{name}/thumbnail", headers=bearer(auth))
        assert thumb.headers["X-Accel-Redirect"] == f"/_photos/thumbs/{name[:2]}/{name}.jpg"
        assert client.get(f"/api/v1/photos/{'0' * 64}", headers=bearer(auth)).status_code == 404
        db.session.remove()
