"""The security review, point by point, across every endpoint the app registers.

The checks walk ``app.url_map`` rather than a hand-kept list, so an endpoint
added later is covered (or makes a test fail) without anyone remembering to
add it here.

Setting: a province of four communes (two districts). Officer 1 works in
commune 90001, officer 2 in 90003 (the other district). Household A is in
90001, household B in 90003; each has a photo. A viewer reads 90001.
"""
from __future__ import annotations

import hashlib
import io
import logging
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text, update
from werkzeug.routing import Rule

from tests.progress_builders import at, load_province, plan, record
from tests.sync_support import PASSWORD, bearer, image_bytes, make_user, token
from tracker.accounts.models import ApiToken, User
from tracker.app import create_app
from tracker.audit.models import AuditEvent
from tracker.dbtypes import utcnow
from tracker.extensions import db
from tracker.photos import storage as photo_storage
from tracker.photos.blobs import LocalBlobs

HEAD_B = "Sùng A Páo"
NATIONAL_ID_A = "014085001234"
NATIONAL_ID_B = "099888777666"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Calls that change no data although they are not GETs: signing in and out, the receipt query.
READS_BY_POST = ("/api/v1/auth/token", "/api/v1/sync/receipt", "/api/v1/export/households.<any(xlsx, csv):fmt>/job")


def _put_photo(client: FlaskClient, auth: str) -> str:
    data = image_bytes()
    sha = hashlib.sha256(data).hexdigest()
    answer = client.put(f"/api/v1/photos/{sha}", data=data, headers={**bearer(auth), "Content-Type": "image/jpeg"})
    assert answer.status_code == 201, answer.get_json()
    return sha


def _push(client: FlaskClient, auth: str, device: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answer = client.post("/api/v1/sync/push", headers=bearer(auth), json={
        "device_id": device, "batch_id": str(uuid.uuid4()), "households": records})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["results"]


@pytest.fixture
def world(app: Flask, client: FlaskClient, tmp_path: Path) -> dict[str, Any]:
    load_province(tmp_path)
    plan({"90001": (3, 1), "90002": (1, 0), "90003": (2, 1), "90004": (1, 0)}, effective=at("2025-01-01 08:00").date())
    make_user("officer1", "commune_officer", ["90001"])
    make_user("officer2", "commune_officer", ["90003"])
    make_user("viewer1", "viewer", ["90001"])
    make_user("manager", "manager")
    tokens = {name: token(client, name, f"{name}-phone") for name in ("officer1", "officer2", "viewer1", "manager")}
    photo_a, photo_b = _put_photo(client, tokens["officer1"]), _put_photo(client, tokens["officer2"])
    a = record("90001", head="Lò Văn Việt", national_id=NATIONAL_ID_A,
               photos=[{"sha256": photo_a, "stage": "before", "taken_at": "2025-01-05T08:00:00+07:00"}])
    b = record("90003", head=HEAD_B, national_id=NATIONAL_ID_B,
               photos=[{"sha256": photo_b, "stage": "before", "taken_at": "2025-01-05T08:00:00+07:00"}])
    a["base_revision"] = b["base_revision"] = None
    assert _push(client, tokens["officer1"], "officer1-phone", [a])[0]["result"] == "created"
    assert _push(client, tokens["officer2"], "officer2-phone", [b])[0]["result"] == "created"
    # Two edits of B from the same base: the second leaves a conflict (in 90003) for review.
    for members in (6, 7):
        edit = {**b, "base_revision": 1, "members": members, "note": f"sửa {members}",
                "captured_at": f"2025-04-0{members - 3}T08:00:00+07:00"}
        _push(client, tokens["officer2"], "officer2-phone", [edit])
    return {"tokens": tokens, "a": a, "b": b, "photo_a": photo_a, "photo_b": photo_b}


def _api_rules(app: Flask, method: str) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules()
                   if r.rule.startswith("/api/") and method in (r.methods or ())), key=lambda r: r.rule)


def _url(rule: Rule, values: dict[str, Any]) -> str:
    path = rule.rule
    for argument in rule.arguments:
        path = re.sub(rf"<(?:[^:<>]+:)?{argument}(?:\([^)]*\))?>", str(values[argument]), path)
    assert "<" not in path, path
    return path


def _body_text(answer: Any) -> str:
    """Everything a person could read in an answer, spreadsheets included."""
    data = answer.get_data()
    if data[:2] == b"PK":
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                         for v in row if v is not None)
    return data.decode("utf-8", "replace")


QUERY_VARIANTS = {
    "/api/v1/progress": ["", "?level=commune", "?level=district"],
    "/api/v1/export/progress.csv": ["", "?level=commune"],
    "/api/v1/export/progress.xlsx": ["?level=commune"],
    "/api/v1/conflicts": ["", "?status=all"],
    "/api/v1/sync/pull": ["?limit=2000"],
}


def _every_get(app: Flask, client: FlaskClient, auth: str, values: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for rule in _api_rules(app, "GET"):
        for query in QUERY_VARIANTS.get(rule.rule, [""]):
            url = _url(rule, values) + query
            yield url, client.get(url, headers=bearer(auth))


def _values(world: dict[str, Any], household: str, photo: str) -> dict[str, Any]:
    return {"household_id": world[household]["id"], "sha": world[photo], "name": "t", "conflict_id": 1,
            "from_name": "t", "to_name": "t", "set_name": "t", "job_id": "0" * 32, "fmt": "csv", "kind": "csv"}


# --- scope ------------------------------------------------------------------------------------


def test_officer_reads_nothing_of_another_commune_through_any_api_endpoint(
        app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    auth = world["tokens"]["officer1"]
    markers = (world["b"]["id"], HEAD_B, NATIONAL_ID_B, world["photo_b"], "Xã Ba")
    checked = 0
    for url, answer in _every_get(app, client, auth, _values(world, "b", "photo_b")):
        assert answer.status_code < 500, (url, answer.get_data(as_text=True))
        if world["b"]["id"] in url or world["photo_b"] in url:
            assert answer.status_code in (403, 404), (url, answer.status_code)
            continue
        body = _body_text(answer)
        for marker in markers:
            assert marker not in body, (url, marker)
        checked += 1
    assert checked >= 12
    # The same walk over A shows the officer's own household: the check above is not vacuous.
    seen = [url for url, answer in _every_get(app, client, auth, _values(world, "a", "photo_a"))
            if answer.status_code == 200 and (world["a"]["id"] in _body_text(answer) or world["a"]["id"] in url)]
    assert any("/households/" in u for u in seen) and any("pull" in u for u in seen)
    assert any("export/households" in u for u in seen) and any("households.geojson" in u for u in seen)
    assert client.get(f"/api/v1/photos/{world['photo_a']}", headers=bearer(auth)).status_code == 200


def test_officer_cannot_write_another_communes_household(client: FlaskClient, world: dict[str, Any]) -> None:
    auth = world["tokens"]["officer1"]
    edit = {**world["b"], "base_revision": 1, "members": 9, "note": "không phải xã tôi"}
    [result] = _push(client, auth, "officer1-phone", [edit])
    assert result["result"] == "rejected", result
    lat, lon = 21.15, 104.05  # inside 90003
    new = record("90003", head="Người Lạ", lat=lat, lon=lon)
    new["base_revision"] = None
    [result] = _push(client, auth, "officer1-phone", [new])
    assert result["result"] == "rejected", result
    answer = client.post("/api/v1/conflicts/1/resolve", headers=bearer(auth), json={"keep": "server", "note": ""})
    assert answer.status_code == 403
    detail = client.get(f"/api/v1/households/{world['b']['id']}", headers=bearer(world["tokens"]["manager"]))
    assert detail.get_json()["record"]["members"] != 9


def test_officer_sees_nothing_of_another_commune_on_the_pages(client: FlaskClient, world: dict[str, Any]) -> None:
    _web_sign_in(client, "officer1")
    b, photo = world["b"]["id"], world["photo_b"]
    for url in (f"/households/{b}", "/communes/90003", f"/photos/{photo}?h={b}", f"/photos/{photo}/thumbnail?h={b}"):
        assert client.get(url).status_code == 404, url
    for url in ("/", "/map", "/search?q=Pao", "/search?q=Sùng", "/communes/90001", "/export/progress.csv",
                "/export/progress.xlsx"):
        answer = client.get(url)
        assert answer.status_code == 200, url
        body = _body_text(answer)
        assert b not in body and HEAD_B not in body and "Xã Ba" not in body, url



def test_naming_another_communes_photo_in_ones_own_household_shows_nothing(client: FlaskClient,
                                                                           world: dict[str, Any]) -> None:
    """Officer 1 pushes a household of 90001 naming officer 2's photo: no answer or page gives it away."""
    auth, photo = world["tokens"]["officer1"], world["photo_b"]
    mine = record("90001", head="Người Mượn Ảnh", photos=[{"sha256": photo, "stage": "before"}])
    mine["base_revision"] = None
    [result] = _push(client, auth, "officer1-phone", [mine])
    assert result["result"] == "created" and result["missing_photos"] == [photo]
    detail = client.get(f"/api/v1/households/{mine['id']}", headers=bearer(auth)).get_json()
    assert detail["missing_photos"] == [photo]
    for method in ("GET", "HEAD"):
        assert client.open(f"/api/v1/photos/{photo}", method=method, headers=bearer(auth)).status_code == 404
    receipt = client.post("/api/v1/sync/receipt", headers=bearer(auth), json={"photos": [photo]})
    assert receipt.get_json()["photos"] == [{"sha256": photo, "held": False}]
    _web_sign_in(client, "officer1")
    for url in (f"/photos/{photo}?h={mine['id']}", f"/photos/{photo}/thumbnail?h={mine['id']}"):
        assert client.get(url).status_code == 404, url
    assert f"/photos/{photo}/thumbnail" not in client.get(f"/households/{mine['id']}").get_data(as_text=True)
    # Officer 2, whose household names it, still sees it.
    assert client.get(f"/api/v1/photos/{photo}", headers=bearer(world["tokens"]["officer2"])).status_code == 200


# --- roles -------------------------------------------------------------------------------------


def test_viewers_cannot_write_through_any_endpoint(app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    auth = world["tokens"]["viewer1"]
    writes = 0
    for method in WRITE_METHODS:
        for rule in _api_rules(app, method):
            if rule.rule in READS_BY_POST:
                continue
            url = _url(rule, _values(world, "a", "photo_a"))
            answer = client.open(url, method=method, headers={
                **bearer(auth), "Tus-Resumable": "1.0.0", "Upload-Offset": "0",
                "Content-Type": "application/json"}, data=b"{}")
            assert answer.status_code == 403, (method, url, answer.status_code)
            assert answer.get_json()["error"]["code"] == "forbidden"
            writes += 1
    assert writes >= 4
    _web_sign_in(client, "viewer1")
    csrf = _csrf(client, "/")
    for url in ("/review/conflicts/1", "/review/assignments/1/1/confirm", "/review/assignments/1/1/move"):
        assert client.post(url, data={"csrf_token": csrf}).status_code == 403, url


# --- tokens ------------------------------------------------------------------------------------


def test_revoked_expired_and_foreign_tokens_fail_everywhere(app: Flask, client: FlaskClient,
                                                            world: dict[str, Any]) -> None:
    auth = world["tokens"]["officer1"]
    values = _values(world, "a", "photo_a")
    protected = [_url(r, values) for r in _api_rules(app, "GET")
                 if r.rule not in ("/api/v1/health", "/api/v1/openapi.json")
                 and not r.rule.startswith("/api/v1/boundary-sets")]
    assert client.get(protected[0], headers=bearer(auth)).status_code == 200

    expired = token(client, "officer1", "phone-expired")
    db.session.execute(update(ApiToken).where(ApiToken.token_hash == hashlib.sha256(expired.encode()).hexdigest())
                       .values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.delete("/api/v1/auth/token", headers=bearer(auth)).status_code == 200  # sign out
    for bad in (auth, expired, auth[:-1] + ("A" if auth[-1] != "A" else "B"), ""):
        for url in protected:
            answer = client.get(url, headers=bearer(bad) if bad else {})
            assert answer.status_code == 401, (url, answer.status_code)
            assert answer.get_json()["error"]["code"] == "unauthorized"
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    for header in ("Basic b2ZmaWNlcjE6eA==", "Bearer", "bearer  ", world["tokens"]["officer2"]):
        assert client.get("/api/v1/sync/pull", headers={"Authorization": header}).status_code == 401, header


def test_passwords_and_tokens_are_stored_only_as_hashes(client: FlaskClient, world: dict[str, Any]) -> None:
    fresh = token(client, "officer1", "phone-hash")
    dump = "\n".join(str(row) for table in ("users", "api_tokens", "devices", "login_attempts", "audit_events")
                     for row in db.session.execute(text(f"SELECT * FROM {table}")))  # noqa: S608 (fixed names)
    assert PASSWORD not in dump
    for value in (*world["tokens"].values(), fresh):
        assert value not in dump
    stored = db.session.scalar(select(ApiToken.token_hash).order_by(ApiToken.id.desc()).limit(1))
    assert stored == hashlib.sha256(fresh.encode()).hexdigest()
    for password_hash in db.session.scalars(select(User.password_hash)):
        assert password_hash.startswith(("scrypt:", "pbkdf2:")), password_hash[:10]


def test_sign_in_is_rate_limited_on_the_api_and_the_pages(app: Flask, client: FlaskClient,
                                                          world: dict[str, Any]) -> None:
    limit = app.config["LOGIN_RATE_LIMIT"]
    wrong = {"username": "officer1", "password": "sai-mat-khau", "device_id": "phone-x"}
    answers = [client.post("/api/v1/auth/token", json=wrong).status_code for _ in range(limit + 1)]
    assert answers == [401] * limit + [429]
    right = client.post("/api/v1/auth/token", json={**wrong, "password": PASSWORD})
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0
    assert right.get_json()["error"]["code"] == "rate_limited"
    page = client.post("/login", data={"username": "officer1", "password": PASSWORD,
                                       "csrf_token": _csrf(client, "/login")})
    assert page.status_code == 429


# --- personal data -----------------------------------------------------------------------------


def test_viewers_never_see_a_full_national_id(app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    auth = world["tokens"]["viewer1"]
    shown = 0
    for url, answer in _every_get(app, client, auth, _values(world, "a", "photo_a")):
        body = _body_text(answer)
        assert NATIONAL_ID_A not in body, url
        shown += NATIONAL_ID_A[-4:] in body
    assert shown >= 3  # the detail, the pull and the exports show the masked form
    for url in ("/api/v1/export/households.csv?lang=en", "/api/v1/export/households.xlsx?lang=en"):
        assert NATIONAL_ID_A not in _body_text(client.get(url, headers=bearer(auth)))
    _web_sign_in(client, "viewer1")
    for url in (f"/households/{world['a']['id']}", "/communes/90001", "/search?q=Viet"):
        assert NATIONAL_ID_A not in _body_text(client.get(url)), url
    # An officer of the commune (who captured it) still sees it whole.
    detail = client.get(f"/api/v1/households/{world['a']['id']}", headers=bearer(world["tokens"]["officer1"]))
    assert detail.get_json()["record"]["national_id"] == NATIONAL_ID_A


# --- paths ---------------------------------------------------------------------------------------


TRAVERSALS = ["..%2F..%2F..%2Fetc%2Fpasswd", "../../../../etc/passwd", "." * 64, "%2e%2e" * 16 + "a" * 32,
              "A" * 64, "0" * 63 + "/", "0" * 63 + "\\", "0" * 62 + "%00", "..%5c" * 12 + "abcd"]


def test_photo_and_file_paths_are_safe_against_traversal(client: FlaskClient, world: dict[str, Any],
                                                         tmp_path: Path) -> None:
    auth = world["tokens"]["manager"]
    for name in TRAVERSALS:
        for suffix in ("", "/thumbnail"):
            for method in ("GET", "HEAD", "PUT", "PATCH"):
                answer = client.open(f"/api/v1/photos/{name}{suffix}", method=method, headers=bearer(auth),
                                     data=b"x" if method in ("PUT", "PATCH") else None)
                assert answer.status_code in (404, 405), (method, name, answer.status_code)
                if method != "HEAD":
                    assert answer.is_json, (method, name)
    _web_sign_in(client, "manager")
    for name in TRAVERSALS:
        assert client.get(f"/photos/{name}?h={world['a']['id']}").status_code in (400, 404), name  # 400: a NUL
    for url in ("/static/web/../../config.py", "/static/web/..%2F..%2Fconfig.py", "/static/web/%2e%2e/__init__.py"):
        assert client.get(url).status_code == 404, url
    # Export file names are built from validated values only.
    for query in ("level=..%2F..%2Fx", "as_of=..%2Fx", "lang=..%2F"):
        answer = client.get(f"/api/v1/export/progress.csv?{query}", headers=bearer(auth))
        assert answer.status_code == 422, query
    name = client.get("/api/v1/export/progress.csv", headers=bearer(auth)).headers["Content-Disposition"]
    assert "/" not in name and "\\" not in name and ".." not in name
    # The storage itself refuses a name that is not a SHA-256 (defence in depth).
    for bad in ("../../etc/passwd", "a" * 63, "A" * 64, "/" + "a" * 63):
        with pytest.raises(ValueError):
            photo_storage.photo_key(bad)
        with pytest.raises(ValueError):
            photo_storage.upload_prefix(1, bad)
    blobs = LocalBlobs(tmp_path)
    for bad in ("../x", "a/../../x", "/etc/passwd", "a//b", ".hidden", "A"):
        with pytest.raises(ValueError):
            blobs.get(bad)


# --- size limits -------------------------------------------------------------------------------


def test_every_write_endpoint_refuses_a_body_over_its_limit(app: Flask, client: FlaskClient,
                                                            world: dict[str, Any]) -> None:
    app.config.update(MAX_CONTENT_LENGTH=4096, PHOTO_MAX_BYTES=8192, OPENROSA_MAX_BODY_BYTES=4096)
    auth = world["tokens"]["manager"]
    checked = []
    for rule in app.url_map.iter_rules():
        for method in sorted(set(rule.methods or ()) & set(WRITE_METHODS)):
            url = _url(rule, {**_values(world, "a", "photo_a"), "sha": "ab" * 32, "revision_id": 1, "set_id": 1,
                              "conflict_id": 1, "key": "not-a-key"})
            limit = 8192 if url.startswith("/api/v1/photos/") else 4096
            headers = {**bearer(auth), "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Upload-Length": "9000"}
            declared = client.open(url, method=method, headers=headers, data=b"x" * (limit + 1),
                                   content_type="application/json")
            assert declared.status_code == 413, (method, url, declared.status_code)
            if method == "DELETE":
                continue  # reads no body (and would sign the manager out)
            streamed = client.open(url, method=method, headers={**headers, "Transfer-Encoding": "chunked"},
                                   input_stream=io.BytesIO(b"[" + b"0," * limit + b"0]"),
                                   content_type="application/json", environ_overrides={"wsgi.input_terminated": True})
            assert streamed.status_code in (302, 413, 400, 401, 403, 405, 409, 415), (method, url, streamed.status_code)
            if url.startswith("/api/"):
                assert declared.get_json()["error"]["code"] == "payload_too_large", url
            checked.append(f"{method} {rule.rule}")
    assert {"POST /api/v1/sync/push", "PUT /api/v1/photos/<string(length=64):sha>", "POST /login",
            "POST /openrosa/submission"} <= set(checked)


# --- headers, logs, configuration --------------------------------------------------------------


def test_security_headers_on_every_page_and_api_answer(client: FlaskClient, world: dict[str, Any]) -> None:
    pages = ["/login", "/no-such-page", "/docs/api", "/static/web/app.css"]
    for url in pages:
        _assert_page_headers(client.get(url), url)
    _web_sign_in(client, "manager")
    for url in ("/", "/map", "/search?q=lo", f"/households/{world['a']['id']}", "/communes/90001", "/review",
                "/communes/99999", "/no-such-page"):
        _assert_page_headers(client.get(url), url)
    for url in ("/api/v1/health", "/api/v1/openapi.json", "/api/v1/nothing-here"):
        answer = client.get(url)
        assert answer.headers["X-Content-Type-Options"] == "nosniff", url
        assert answer.is_json, url


def _assert_page_headers(answer: Any, url: str) -> None:
    headers = answer.headers
    assert headers.get("X-Content-Type-Options") == "nosniff", url
    assert headers.get("X-Frame-Options") == "DENY", url
    assert headers.get("Referrer-Policy"), url
    if answer.mimetype == "text/html":
        csp = headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp and "default-src" in csp, url
        assert "unsafe-inline" not in csp.split("script-src")[-1].split(";")[0] or "script-src" not in csp, url


def test_secrets_never_reach_the_logs(app: Flask, client: FlaskClient, world: dict[str, Any],
                                      caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.DEBUG)
    fresh = token(client, "officer1", "phone-logs")
    client.post("/api/v1/auth/token", json={"username": "officer1", "password": "sai-" + PASSWORD,
                                            "device_id": "p"})
    client.get("/api/v1/sync/pull", headers=bearer(fresh))
    client.get("/api/v1/sync/pull", headers=bearer(fresh + "x"))

    def boom(*_args: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("tracker.households.pull.pull", boom)
    assert client.get("/api/v1/sync/pull?cursor=0&token=" + fresh, headers=bearer(fresh)).status_code == 500
    assert "unhandled error" in caplog.text  # the log works, and carries no secret
    for secret in (PASSWORD, "sai-" + PASSWORD, fresh, app.config["SECRET_KEY"]):
        assert secret not in caplog.text
    events = "\n".join(str((e.action, e.details)) for e in db.session.scalars(select(AuditEvent)))
    assert fresh not in events and PASSWORD not in events


def test_secret_key_is_required_outside_development(migrated: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    base = {"SQLALCHEMY_DATABASE_URI": migrated, "INSTANCE_DIR": str(tmp_path)}
    for env in ("production", "staging"):
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            create_app({**base, "ENV_NAME": env, "SECRET_KEY": ""})
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            create_app({**base, "ENV_NAME": env, "SECRET_KEY": "dev-only-secret-key"})
    monkeypatch.setenv("TRACKER_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": migrated, "INSTANCE_DIR": str(tmp_path)})
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret-0123456789")
    production = create_app({"SQLALCHEMY_DATABASE_URI": migrated, "INSTANCE_DIR": str(tmp_path)})
    assert production.config["SECRET_KEY"] == "a-long-random-production-secret-0123456789"
    with production.app_context():
        db.engine.dispose()
    assert create_app({**base, "ENV_NAME": "development", "SECRET_KEY": ""}).config["SECRET_KEY"]


# --- helpers -------------------------------------------------------------------------------------


def _csrf(client: FlaskClient, url: str) -> str:
    found = CSRF.search(client.get(url).get_data(as_text=True))
    assert found, url
    return found.group(1)


def _web_sign_in(client: FlaskClient, name: str) -> None:
    answer = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": _csrf(client, "/login")})
    assert answer.status_code == 302, answer.get_data(as_text=True)
