"""Bytes and shapes no parser may choke on: each is a clean 400, never a 500.

NUL characters in any path, query or form parameter, lone UTF-16
surrogates, deep nesting, NUL and numbers beyond 64 bits in JSON bodies,
page numbers beyond 64 bits and dates such as year 1 — through every API
operation of the OpenAPI document and every page, on SQLite and PostgreSQL.
Under ``/api`` the answer is the JSON error shape; pages answer with the
site's own error page.
"""
from __future__ import annotations

import io
import json
import re
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.helpers import json_error
from tests.sync_support import bearer, household, make_user, token
from tests.test_security import _values, _web_sign_in
from tracker.accounts.models import LoginAttempt
from tracker.extensions import db
from tracker.households.models import Conflict, Household

NULS = ["%00", "a%00", "%00%00", "90001%00", "%C3%A0%00x"]
PAGE_PARAMS = ("q", "status", "as_of", "set", "lang", "level", "sort", "dir", "page", "commune", "h", "next",
               "points", "flagged", "x")


def _operations(client: FlaskClient) -> list[tuple[str, str, dict[str, Any]]]:
    spec = client.get("/api/v1/openapi.json").get_json()
    return [(path, method.upper(), op) for path, ops in spec["paths"].items() for method, op in ops.items()
            if method in ("get", "post", "put", "patch", "delete", "head")]


def _api_url(path: str, world: dict[str, Any]) -> str:
    values = {**_values(world, "a", "photo_a"), "name": "t"}
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)


def _page_error(answer: Any, status: int = 400) -> str:
    assert answer.status_code == status, answer.status_code
    assert answer.mimetype == "text/html"
    body = answer.get_data(as_text=True)
    assert "Traceback" not in body and "<h1>" in body
    return body


# --- NUL in paths, queries and forms ---------------------------------------------------------------


def test_nul_in_any_query_parameter_of_any_api_operation_is_a_json_400(client: FlaskClient,
                                                                       world: dict[str, Any]) -> None:
    auth = world["tokens"]["manager"]
    checked = 0
    for path, method, op in _operations(client):
        if (path, method) == ("/api/v1/auth/token", "DELETE"):
            continue  # would sign the manager out if the check failed
        names = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"] + ["x"]
        for index, name in enumerate(names):
            for value in (NULS[index % len(NULS)],):
                answer = client.open(f"{_api_url(path, world)}?{name}={value}", method=method,
                                     headers={**bearer(auth), "Content-Type": "application/json"}, data=b"{}")
                if method == "HEAD":
                    assert answer.status_code == 400, (path, name)
                    continue
                error = json_error(answer, 400, "bad_request")
                assert "NUL" in error["message"], (path, name, error)
                checked += 1
        answer = client.get(f"{_api_url(path, world)}?a%00b=1", headers=bearer(auth))
        assert answer.status_code in (400, 405), (path, answer.status_code)
    assert checked > 40


def test_nul_in_an_api_path_is_a_json_400(client: FlaskClient, world: dict[str, Any]) -> None:
    for path in ("/api/v1/plans/t%00", "/api/v1/plans/%00", "/api/v1/boundary-sets/t%00/units",
                 f"/api/v1/households/{world['a']['id']}%00"):
        answer = client.get(path, headers=bearer(world["tokens"]["manager"]))
        json_error(answer, 404 if answer.status_code == 404 else 400)  # 404: no route took it


def test_nul_in_any_page_parameter_or_path_is_a_readable_400(app: Flask, client: FlaskClient,
                                                            world: dict[str, Any]) -> None:
    _web_sign_in(client, "manager")
    a, sha = world["a"]["id"], world["photo_a"]
    pages = [f"/households/{a}", "/communes/90001", f"/photos/{sha}?h={a}", f"/photos/{sha}/thumbnail?h={a}",
             "/", "/map", "/search", "/review", "/export/progress.csv", "/export/progress.xlsx", "/login"]
    pages += sorted(r.rule for r in app.url_map.iter_rules()
                    if r.endpoint.startswith("web.") and "GET" in r.methods and not r.arguments and r.rule not in pages)
    for page in pages:
        joiner = "&" if "?" in page else "?"
        for index, name in enumerate(PAGE_PARAMS):
            _page_error(client.get(f"{page}{joiner}{name}={NULS[index % len(NULS)]}"))
    for page in ("/communes/90001%00", f"/households/{a}%00", f"/photos/{sha}%00?h={a}", "/communes/%00"):
        _page_error(client.get(page))


def test_nul_in_a_form_field_is_a_readable_400_and_records_nothing(client: FlaskClient,
                                                                    world: dict[str, Any]) -> None:
    attempts = db.session.scalar(select(func.count()).select_from(LoginAttempt))
    for field, value in (("username", "manager\x00"), ("username", "\x00"), ("password", "x\x00y"),
                         ("next", "/\x00"), ("csrf_token", "\x00"), ("extra\x00", "1")):
        form = {"username": "manager", "password": "sai-mat-khau", "next": "/", "csrf_token": "t", field: value}
        _page_error(client.post("/login", data=form))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == attempts


def test_nul_under_openrosa_is_an_openrosa_400(client: FlaskClient, world: dict[str, Any]) -> None:
    for url in ("/openrosa/formList?formID=%00", "/openrosa/key/%00abc/formList", "/openrosa/formList?a%00=1"):
        answer = client.get(url)
        assert answer.status_code == 400, (url, answer.status_code)
        assert answer.mimetype in ("text/xml", "application/xml") and "OpenRosaResponse" in answer.get_data(as_text=True)
        assert answer.headers["X-OpenRosa-Version"] == "1.0"


# --- JSON bodies ----------------------------------------------------------------------------------------


def _nest(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


def _objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


POISONS = {
    "high surrogate": '"\\ud800"',
    "low surrogate": '"L\\udc00o"',
    "reversed pair": '"\\udc00\\ud800"',
    "surrogate then text": '"\\ud83dx"',
    "NUL": '"a\\u0000b"',
    "only NUL": '"\\u0000"',
    "NUL in a list": '["ok", "\\u0000"]',
    "surrogate in a key": '{"\\ud800": 1}',
    "NUL in a key": '{"a\\u0000": 1}',
    "nested 40": _nest(40),
    "nested 1000": _nest(1000),
    "nested 5000": _nest(5000),
    "nested 100000": _nest(100_000),
    "objects 1000": _objects(1000),
    "objects 3000": _objects(3000),
}


NUMBERS = [str(2**63), str(-(2**63) - 1), str(10**30), str(10**400), "NaN", "-Infinity", "1e400"]


def _bodies(world: dict[str, Any]) -> dict[str, Any]:
    """Each JSON endpoint with a body builder that puts ``poison`` into one of its fields."""
    record = {**world["a"], "base_revision": 1, "note": "POISON"}
    return {
        "/api/v1/auth/token": {"username": "POISON", "password": "sai-mat-khau", "device_id": "d"},
        "/api/v1/sync/push": {"device_id": "manager-phone", "batch_id": str(uuid.uuid4()), "households": [record]},
        "/api/v1/sync/receipt": {"households": ["POISON"], "photos": []},
        f"/api/v1/conflicts/{db.session.scalar(select(func.min(Conflict.id)))}/resolve":
            {"keep": "value", "value": "POISON", "note": ""},
    }


def test_json_no_parser_may_choke_on_is_a_json_400_everywhere(client: FlaskClient, world: dict[str, Any]) -> None:
    auth = world["tokens"]["manager"]
    households = db.session.scalar(select(func.count()).select_from(Household))
    for poison, text in POISONS.items():
        for url, body in _bodies(world).items():
            raw = json.dumps(body).replace('"POISON"', text)
            answer = client.post(url, data=raw.encode("utf-8"),
                                 headers={**bearer(auth), "Content-Type": "application/json"})
            error = json_error(answer, 400)
            assert error["fields"], (poison, url, error)
            if "\\u" in text:  # the bad string is not echoed back
                assert text not in answer.get_data().decode("utf-8"), (poison, url)
        # A whole body that is only the poison, too.
        answer = client.post("/api/v1/sync/push", data=text.encode(), headers={
            **bearer(auth), "Content-Type": "application/json"})
        json_error(answer, 400)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Household)) == households


def test_json_numbers_beyond_64_bits_are_each_fields_error(client: FlaskClient, world: dict[str, Any]) -> None:
    """Numbers are left to the schemas (a pushed record's error, not the batch's): 422 or a rejected record."""
    auth = world["tokens"]["manager"]
    for number in NUMBERS:
        for url, body in _bodies(world).items():
            raw = json.dumps(body).replace('"POISON"', number)
            answer = client.post(url, data=raw.encode(), headers={**bearer(auth), "Content-Type": "application/json"})
            if url.endswith("/push"):
                assert answer.status_code == 200 and answer.get_json()["results"][0]["result"] == "rejected", number
            else:
                json_error(answer, 422, "validation_error")


def test_an_ordinary_deep_enough_body_still_passes(client: FlaskClient, world: dict[str, Any]) -> None:
    """The check refuses the pathological, not the ordinary: a real push and sign-in go through."""
    auth = world["tokens"]["manager"]
    record = household(declared_commune="90001", note="Ghi chú có dấu: ặ ữ ỗ — “ngoặc” \t tab")
    answer = client.post("/api/v1/sync/push", headers=bearer(auth), json={
        "device_id": "manager-phone", "batch_id": str(uuid.uuid4()), "households": [record]})
    assert answer.status_code == 200 and answer.get_json()["results"][0]["result"] == "created"
    answer = client.post("/api/v1/auth/token", data=b'{"username": "\\ud83d\\udc4d", "password": "x", "device_id": "d"}',
                         content_type="application/json")
    json_error(answer, 401)  # a proper surrogate pair is text


# --- numbers and dates ------------------------------------------------------------------------------------

HUGE = [str(2**63), str(2**64), str(10**30), str(-(2**64)), "9" * 400]


OUT_OF_RANGE = ([f"/api/v1/sync/pull?limit={n}" for n in HUGE] + [f"/api/v1/sync/pull?cursor={n}" for n in HUGE]
                + [f"/api/v1/conflicts?offset={n}" for n in HUGE] + [f"/api/v1/conflicts?limit={n}" for n in HUGE[:2]]
                + [f"/api/v1/map/communes.geojson?zoom={n}" for n in HUGE[:2]]
                + [f"/api/v1/households.geojson?limit={n}" for n in HUGE[:2]]
                + [f"/api/v1/progress?as_of={d}" for d in ("0001-01-01", "9999-12-31", "1999-12-31")]
                + [f"/api/v1/progress?known_at={d}" for d in ("0001-01-01T00:00:00%2B07:00", "0001-01-01T00:00:00Z")]
                + [f"/api/v1/export/households.csv?as_of={d}" for d in ("0001-01-01", "0000-01-01")])


def test_numbers_beyond_64_bits_and_year_one_are_refused_under_api(client: FlaskClient,
                                                                   world: dict[str, Any]) -> None:
    for query in OUT_OF_RANGE:
        answer = client.get(query, headers=bearer(world["tokens"]["manager"]))
        assert answer.status_code in (400, 422), (query, answer.status_code)
        json_error(answer, answer.status_code)


def test_page_numbers_beyond_64_bits_and_year_one_are_readable_on_the_pages(client: FlaskClient,
                                                                            world: dict[str, Any]) -> None:
    _web_sign_in(client, "manager")
    for url in ["/communes/90001?page=" + n for n in HUGE[:3] + HUGE[4:]] + ["/search?q=Lo&page=" + HUGE[1]]:
        _page_error(client.get(url))
    for url in ("/?as_of=0001-01-01", "/map?as_of=0001-01-01", "/?as_of=1999-12-31&level=commune",
                "/map?as_of=0001-01-02", "/export/progress.csv?as_of=0001-01-01"):
        body = _page_error(client.get(url + "&lang=en"))
        assert "date" in body.lower() and "Content-Disposition" not in client.get(url).headers, url


YEAR_ONE = [
    ("captured_at", {"captured_at": "0001-01-01T00:00:00+07:00"}),
    ("captured_at", {"captured_at": "1999-12-31T23:00:00+00:00"}),
    ("status_dates.approved", {"status": "approved", "status_dates": {"approved": "0001-01-01"}}),
    ("status_dates.completed", {"status_dates": {"approved": "2025-01-20", "started": "2025-02-10",
                                                 "completed": "0001-01-03"}}),
    ("location.captured_at", {"location": {"lat": 21.05, "lon": 104.05, "accuracy_m": 5,
                                           "captured_at": "0001-01-01T00:00:00-12:00"}}),
    ("photos.0.taken_at", {"photos": [{"sha256": "a" * 64, "stage": "before", "taken_at": "0001-01-01T00:00:00Z"}]}),
]


def test_a_record_dated_year_one_is_rejected_naming_the_field(client: FlaskClient, world: dict[str, Any]) -> None:
    make_user("officer9", "commune_officer", ["90001"])
    auth = token(client, "officer9", "phone-9")
    for field, changes in YEAR_ONE:
        record = household(declared_commune="90001", **changes)
        answer = client.post("/api/v1/sync/push", headers=bearer(auth), json={
            "device_id": "phone-9", "batch_id": str(uuid.uuid4()), "households": [record]})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        [result] = answer.get_json()["results"]
        assert result["result"] == "rejected" and field in result["errors"], result


def test_a_chunked_body_past_the_limit_is_413_not_its_first_bytes(app: Flask, client: FlaskClient,
                                                                 world: dict[str, Any]) -> None:
    """A body of no declared length is read whole or refused: never parsed from its first bytes alone."""
    app.config.update(MAX_CONTENT_LENGTH=4096)
    auth = world["tokens"]["officer1"]
    record = {**household(), "declared_commune": "90001"}
    body = json.dumps({"device_id": "officer1-phone", "batch_id": str(uuid.uuid4()), "households": [record]}).encode()
    assert len(body) < 4096
    padded = body + b" " * 8000  # valid JSON in its first 4,096 bytes, and more after
    before = db.session.scalar(select(func.count()).select_from(Household))
    answer = client.post("/api/v1/sync/push", input_stream=io.BytesIO(padded),
                         headers={**bearer(auth), "Transfer-Encoding": "chunked"}, content_type="application/json",
                         environ_overrides={"wsgi.input_terminated": True})
    assert json_error(answer, 413)["code"] == "payload_too_large"
    assert db.session.scalar(select(func.count()).select_from(Household)) == before
