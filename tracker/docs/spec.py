"""An apispec plugin that completes every operation with the errors it can answer.

The views declare their success answers and the errors particular to them;
the errors that follow from how an operation is built are added here, all
with the one error shape (``Error``):

* a bearer token (``security``): 401, and 403 (role or scope);
* a path parameter: 404;
* a request body: 400 (malformed), 413 (too large) and, for JSON, 415;
* any other 4xx a view declared without a body gets the error body.
"""
from __future__ import annotations

from http import HTTPStatus
from typing import Any

from apispec import BasePlugin

ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


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
                if (str(code).startswith("4") and isinstance(response, dict) and "$ref" not in response
                        and "content" not in response and method != "head"):
                    response["content"] = ERROR_CONTENT
