"""An apispec plugin that completes every operation with the errors it can answer.

The views declare their success answers and the errors particular to them;
the errors that follow from how an operation is built are added here, all
with the one error shape (``Error``):

* a bearer token (``security``): 401, and 403 (role or scope);
* a path parameter: 404;
* a request body: 400 (malformed), 413 (too large) and, for JSON, 415;
* any other 4xx a view declared without a body gets the error body.

It also adds the OpenAPI links (``LINKS``) that say how one answer feeds the
next call: a push's household to its record, a photo to its bytes, a
conflict to its resolution… Clients and the stateful fuzzing follow them.
"""
from __future__ import annotations

from http import HTTPStatus
from typing import Any

from apispec import BasePlugin

ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _ref(path: str, method: str) -> str:
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


HOUSEHOLD = "/api/v1/households/{household_id}"
PHOTO = "/api/v1/photos/{sha}"
# (path, method, status) → link name → (target path, method, parameters from the answer)
LINKS: dict[tuple[str, str, str], dict[str, tuple[str, str, dict[str, str]]]] = {
    ("/api/v1/sync/push", "post", "200"): {
        "PushedHousehold": (HOUSEHOLD, "get", {"household_id": "$response.body#/results/0/id"}),
    },
    (HOUSEHOLD, "get", "200"): {
        "ConfirmAssignment": (HOUSEHOLD + "/assignments/{set_name}/confirm", "post", {
            "household_id": "$response.body#/id", "set_name": "$response.body#/assignment/boundary_set"}),
        "MoveAssignment": (HOUSEHOLD + "/assignments/{set_name}/move", "post", {
            "household_id": "$response.body#/id", "set_name": "$response.body#/assignment/boundary_set"}),
    },
    ("/api/v1/conflicts", "get", "200"): {
        "ResolveConflict": ("/api/v1/conflicts/{conflict_id}/resolve", "post",
                            {"conflict_id": "$response.body#/conflicts/0/id"}),
    },
    (PHOTO, "put", "201"): {
        "StoredPhoto": (PHOTO, "get", {"sha": "$response.body#/sha256"}),
        "StoredThumbnail": (PHOTO + "/thumbnail", "get", {"sha": "$response.body#/sha256"}),
    },
    ("/api/v1/plans", "get", "200"): {
        "Plan": ("/api/v1/plans/{name}", "get", {"name": "$response.body#/0/name"}),
    },
    ("/api/v1/boundary-sets", "get", "200"): {
        "Units": ("/api/v1/boundary-sets/{name}/units", "get", {"name": "$response.body#/0/name"}),
    },
}


def links_for(path: str, method: str, status: str) -> dict[str, Any]:
    """The OpenAPI ``links`` of one answer."""
    return {
        name: {"operationRef": _ref(target, target_method), "parameters": parameters}
        for name, (target, target_method, parameters) in LINKS.get((path, method, status), {}).items()
    }


def _component(code: str) -> str:
    """flask-smorest registers a response component per HTTP status, with the error schema."""
    return HTTPStatus(int(code)).name


class ErrorResponsesPlugin(BasePlugin):
    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None,
                         **_kwargs: Any) -> None:
        for method, operation in (operations or {}).items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            wanted: list[str] = []
            if operation.get("security"):
                wanted += ["401", "403"]
            if path and "{" in path:
                wanted.append("404")
            body = operation.get("requestBody")
            if body:
                wanted += ["400", "413"]
                if "application/json" in (body.get("content") or {}):
                    wanted.append("415")
            for code in wanted:
                responses.setdefault(code, _component(code))
            for code, response in list(responses.items()):
                if isinstance(response, dict) and (links := links_for(path or "", method, str(code))):
                    response["links"] = links
                if (str(code).startswith("4") and isinstance(response, dict) and "$ref" not in response
                        and "content" not in response and method != "head"):
                    response["content"] = ERROR_CONTENT


def one_of(self: Any, field: Any, **kwargs: Any) -> dict[str, Any]:
    """A field dumped by one of several schemas (``by_type``): documented as ``oneOf`` them.

    An attribute function of apispec's marshmallow converter (``self``).
    """
    schemas = getattr(field, "by_type", None)
    if not schemas:
        return {}
    return {"oneOf": [self.resolve_nested_schema(schema) for schema in schemas.values()]}
