"""The sync endpoints in the OpenAPI document, and JSON-only answers under /api."""
from __future__ import annotations

import pytest

SECURED = [
    ("/api/v1/sync/push", "post"),
    ("/api/v1/sync/pull", "get"),
    ("/api/v1/sync/receipt", "post"),
    ("/api/v1/households/{household_id}", "get"),
    ("/api/v1/conflicts", "get"),
    ("/api/v1/conflicts/{conflict_id}/resolve", "post"),
    ("/api/v1/photos/{sha}", "put"),
    ("/api/v1/photos/{sha}", "patch"),
    ("/api/v1/photos/{sha}", "get"),
    ("/api/v1/auth/token", "delete"),
]


def test_openapi_documents_the_sync_protocol(client) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, method in SECURED:
        operation = spec["paths"][path][method]
        assert operation["security"] == [{"bearerAuth": []}], (path, method)
    assert "security" not in spec["paths"]["/api/v1/auth/token"]["post"]
    push = spec["paths"]["/api/v1/sync/push"]["post"]
    schema_ref = push["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    households = spec["components"]["schemas"][schema_ref]["properties"]["households"]
    assert households["items"]["$ref"].endswith("/Household")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/sync/push"),
    ("delete", "/api/v1/sync/pull"),
    ("put", "/api/v1/conflicts"),
    ("post", "/api/v1/households/0f6d1c1e-8d1a-4a55-9a55-4f1c2b3d4e5f"),
])
def test_wrong_method_is_json(client, method: str, path: str) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/api/v1/sync/push", "/api/v1/sync/receipt", "/api/v1/conflicts/1/resolve"])
def test_protected_writes_need_a_token_before_anything_else(client, path: str) -> None:
    response = client.post(path, data="not json at all", content_type="text/plain")
    assert response.status_code == 401
    assert response.mimetype == "application/json"
