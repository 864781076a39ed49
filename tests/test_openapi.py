"""The OpenAPI document covers every ``/api`` endpoint, with auth and the error shape,
and its browsable page is served by the app itself."""
from __future__ import annotations

import re
from typing import Any

from flask import Flask

PUBLIC = {("GET", "/api/v1/health"), ("GET", "/api/v1/openapi.json"), ("POST", "/api/v1/auth/token"),
          ("GET", "/api/v1/boundary-sets"), ("GET", "/api/v1/boundary-sets/{name}/units")}
DOCUMENTED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _resolve(spec: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in item:
        kind, name = item["$ref"].split("/")[-2:]
        item = spec["components"][kind][name]
    return item


def _operations(spec: dict[str, Any]):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield method.upper(), path, operation


def test_every_registered_api_rule_is_in_the_document(app: Flask, client) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = {(m, p) for m, p, _ in _operations(spec)}
    expected = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        for method in set(rule.methods or ()) & set(DOCUMENTED_METHODS):
            expected.add((method, _openapi_path(rule.rule)))
    missing = expected - documented
    assert not missing, f"registered but not documented: {sorted(missing)}"
    assert not documented - expected - {("HEAD", "/api/v1/photos/{sha}")}, "documented but not served"
    for must in [("PUT", "/api/v1/photos/{sha}"), ("HEAD", "/api/v1/photos/{sha}"), ("PATCH", "/api/v1/photos/{sha}"),
                 ("GET", "/api/v1/export/progress.xlsx"), ("GET", "/api/v1/export/progress.csv"),
                 ("GET", "/api/v1/map/communes.geojson"), ("GET", "/api/v1/households.geojson"),
                 ("POST", "/api/v1/sync/push"), ("GET", "/api/v1/sync/pull"), ("GET", "/api/v1/openapi.json")]:
        assert must in documented, must


def test_protected_operations_declare_bearer_auth_and_401(client) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    for method, path, operation in _operations(spec):
        if (method, path) in PUBLIC:
            continue
        assert operation.get("security") == [{"bearerAuth": []}], (method, path)
        assert {"401", "403"} <= set(operation["responses"]), (method, path)


def test_every_error_answer_has_the_one_error_shape(client) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    body = _resolve(spec, error["properties"]["error"])
    assert set(body["properties"]) == {"code", "message", "fields"} and set(body["required"]) == {"code", "message"}
    checked = 0
    for method, path, operation in _operations(spec):
        assert {"200", "201", "202", "204"} & set(operation["responses"]), (method, path)
        for code, response in operation["responses"].items():
            if code == "default" or code.startswith("4"):
                if method == "HEAD":
                    continue
                content = _resolve(spec, response).get("content", {})
                assert content.get("application/json", {}).get("schema") == {"$ref": "#/components/schemas/Error"}, \
                    (method, path, code)
                checked += 1
        if "{" in path:
            assert "404" in operation["responses"], (method, path)
        if "requestBody" in operation:
            assert "413" in operation["responses"], (method, path)
    assert checked > 60


def test_documented_parameters_and_bodies_come_from_the_schemas(client) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    push = spec["paths"]["/api/v1/sync/push"]["post"]
    schema = _resolve(spec, push["requestBody"]["content"]["application/json"]["schema"])
    assert {"device_id", "batch_id", "households"} <= set(schema["properties"])
    pull = {p["name"] for p in spec["paths"]["/api/v1/sync/pull"]["get"]["parameters"]}
    assert {"cursor", "limit"} <= pull
    progress = {p["name"] for p in spec["paths"]["/api/v1/progress"]["get"]["parameters"]}
    assert {"level", "as_of", "known_at"} <= progress
    put = spec["paths"]["/api/v1/photos/{sha}"]["put"]
    assert "image/jpeg" in put["requestBody"]["content"]


def test_the_document_has_a_browsable_page_with_no_script_and_nothing_remote(client) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    page = client.get("/docs/api")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "the page must load nothing from elsewhere"
    for method, path, _ in _operations(spec):
        assert f"{method} {path}" in html, (method, path)
    assert 'id="schema-Error"' in html and 'id="schema-PushArgs"' in html
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    css = re.search(r'href="([^"]+\.css)"', html)
    assert css and client.get(css.group(1)).status_code == 200
