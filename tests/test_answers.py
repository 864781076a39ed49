"""The API sends what its OpenAPI document describes.

Answers are dumped by the schemas the document is built from; the push
answer, encoded directly for speed, must equal its schema's dump. Each answer
of a realistic session (records created, merged into a conflict, rejected;
a photo; the conflict resolved) is then checked against the document: every
required member present, no member the document does not name, the types it
gives.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from schemas.sync import PushResponseSchema
from tests.sync_support import bearer, household, image_bytes, load_communes, make_user, push, token

JSON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict}


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def mismatches(spec: dict[str, Any], schema: dict[str, Any], value: Any, where: str = "$") -> list[str]:
    """How ``value`` departs from the document's ``schema`` (an empty list when it conforms)."""
    schema = _resolve(spec, schema)
    if value is None:
        return [] if schema.get("nullable") or not schema.get("type") else [f"{where}: null, not nullable"]
    kind = schema.get("type")
    if kind and (not isinstance(value, JSON_TYPES[kind]) or (kind != "boolean" and isinstance(value, bool))):
        return [f"{where}: {type(value).__name__}, documented {kind}"]
    found: list[str] = []
    if isinstance(value, list) and "items" in schema:
        for item in value:
            found += mismatches(spec, schema["items"], item, f"{where}[]")
    if isinstance(value, dict) and "properties" in schema:
        props = schema["properties"]
        found += [f"{where}.{key}: required, absent" for key in schema.get("required", []) if key not in value]
        found += [f"{where}.{key}: not in the document" for key in value if key not in props]
        for key, member in value.items():
            if key in props:
                found += mismatches(spec, props[key], member, f"{where}.{key}")
    elif isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        for key, member in value.items():
            found += mismatches(spec, schema["additionalProperties"], member, f"{where}[{key}]")
    return found


def components(spec: dict[str, Any], schema: dict[str, Any], seen: dict[str, dict[str, Any]]) -> dict[str, dict]:
    """Every named schema reachable from ``schema`` (name → schema)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name in seen:
            return seen
        seen[name] = schema = spec["components"]["schemas"][name]
    for member in [*schema.get("properties", {}).values(), schema.get("items"), schema.get("additionalProperties")]:
        if isinstance(member, dict):
            components(spec, member, seen)
    return seen


def documented(spec: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any]:
    response = spec["paths"][path][method]["responses"][str(status)]
    return response["content"]["application/json"]["schema"]


@pytest.fixture
def session(app: Flask, client, tmp_path: Path) -> list[tuple[str, str, Any]]:
    """(method, documented path, answer) for one realistic round of the sync protocol."""
    load_communes(tmp_path)
    make_user("officer", "commune_officer", ["90001"])
    make_user("boss", "manager")
    officer, other, boss = token(client, "officer"), token(client, "officer", "phone-2"), token(client, "boss", "desk")
    picture = image_bytes(exif=True)
    sha = hashlib.sha256(picture).hexdigest()
    record = household(photos=[{"sha256": sha, "stage": "before"}])
    answers: list[tuple[str, str, Any]] = []

    def keep(method: str, path: str, response: Any, status: int = 200) -> Any:
        assert response.status_code == status, response.get_data(as_text=True)
        answers.append((method, path, response))
        return response.get_json()

    keep("post", "/api/v1/sync/push", push(client, officer, [record, {**household(), "members": 0}]))
    keep("post", "/api/v1/sync/push", push(client, officer, [{**record, "base_revision": 1,
                                                              "household_head": "Lò Văn Viết"}]))
    stale = {**record, "base_revision": 1, "household_head": "Lò Văn Việc", "captured_at": "2025-04-02T18:00:00+07:00"}
    keep("post", "/api/v1/sync/push", push(client, other, [stale], device="phone-2"))
    keep("put", "/api/v1/photos/{sha}", client.put(f"/api/v1/photos/{sha}", data=picture, headers={
        **bearer(officer), "Content-Type": "image/jpeg"}), 201)
    keep("get", "/api/v1/sync/pull", client.get("/api/v1/sync/pull", headers=bearer(officer)))
    keep("post", "/api/v1/sync/receipt", client.post("/api/v1/sync/receipt", headers=bearer(officer), json={
        "households": [record["id"], household()["id"]], "photos": [sha, "0" * 64]}))
    keep("get", "/api/v1/households/{household_id}", client.get(f"/api/v1/households/{record['id']}",
                                                                  headers=bearer(officer)))
    listed = keep("get", "/api/v1/conflicts", client.get("/api/v1/conflicts", headers=bearer(boss)))
    conflict = listed["conflicts"][0]["id"]
    keep("post", "/api/v1/conflicts/{conflict_id}/resolve", client.post(
        f"/api/v1/conflicts/{conflict}/resolve", headers=bearer(boss), json={"keep": "client", "note": "checked"}))
    current = keep("get", "/api/v1/households/{household_id}", client.get(f"/api/v1/households/{record['id']}",
                                                                            headers=bearer(boss)))
    keep("post", "/api/v1/households/{household_id}/assignments/{set_name}/move", client.post(
        f"/api/v1/households/{record['id']}/assignments/test/move", headers=bearer(boss),
        json={"revision": current["revision"], "commune": "90002", "note": "seen on site"}))
    keep("get", "/api/v1/boundary-sets", client.get("/api/v1/boundary-sets"))
    keep("get", "/api/v1/boundary-sets/{name}/units", client.get("/api/v1/boundary-sets/test/units"))
    keep("get", "/api/v1/health", client.get("/api/v1/health"))
    keep("post", "/api/v1/auth/token", client.post("/api/v1/auth/token", json={
        "username": "officer", "password": "mật-khẩu-đủ-dài", "device_id": "phone-3"}), 201)
    return answers


def test_every_answer_is_what_the_document_describes(client, session: list[tuple[str, str, Any]]) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    for method, path, response in session:
        schema = documented(spec, method, path, response.status_code)
        assert mismatches(spec, schema, response.get_json()) == [], (method, path)


def test_what_every_answer_holds_is_marked_required(client, session: list[tuple[str, str, Any]]) -> None:
    """Only members that depend on what happened may be left out of an answer."""
    spec = client.get("/api/v1/openapi.json").get_json()
    reached: dict[str, dict[str, Any]] = {}
    for method, path, response in session:
        components(spec, documented(spec, method, path, response.status_code), reached)
    record = components(spec, {"$ref": "#/components/schemas/Household"}, {})
    for name in record:  # the record as the phone sends it keeps its own required fields
        reached.pop(name, None)
    optional = {name: sorted(set(schema.get("properties", {})) - set(schema.get("required", [])))
                for name, schema in reached.items()}
    assert {name: members for name, members in optional.items() if members} == {
        "PushResult": ["conflicts"],  # when there are some
        "Assignment": ["contradicts_decision", "decision", "gps_commune", "low_accuracy_m"],  # decided; coarse fix
        "Decision": ["boundary_set"],  # only in the household's list of decisions
    }


def test_the_session_covers_what_the_answers_can_hold(session: list[tuple[str, str, Any]]) -> None:
    """The checks above saw a rejected record, a conflict, a missing photo and a held one."""
    pushed = [r for method, path, answer in session if path == "/api/v1/sync/push" for r in answer.get_json()["results"]]
    assert {r["result"] for r in pushed} >= {"created", "rejected", "updated", "conflict"}
    assert any(r["missing_photos"] for r in pushed) and any(r.get("conflicts") for r in pushed)
    receipt = next(a.get_json() for _, path, a in session if path == "/api/v1/sync/receipt")
    assert [p["held"] for p in receipt["photos"]] == [True, False]


def test_the_push_answer_equals_its_schema_s_dump(session: list[tuple[str, str, Any]]) -> None:
    for _, path, response in session:
        if path == "/api/v1/sync/push":
            body = response.get_json()
            assert PushResponseSchema().dump(body) == body


def test_the_checker_sees_a_missing_or_an_extra_member(client) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    schema = documented(spec, "get", "/api/v1/health", 200)
    assert mismatches(spec, schema, {"status": "ok", "database": "ok"}) == []
    assert mismatches(spec, schema, {"status": "ok"}) == ["$.database: required, absent"]
    assert mismatches(spec, schema, {"status": "ok", "database": "ok", "extra": 1}) == ["$.extra: not in the document"]
    assert mismatches(spec, schema, {"status": 1, "database": "ok"}) == ["$.status: int, documented string"]
