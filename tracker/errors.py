"""One JSON error shape for the whole API.

``{"error": {"code": "...", "message": "...", "fields": {...}}}`` with the
right HTTP status. Anything under ``/api`` answers this way, including
404/405/413/500 raised by Flask itself; other paths keep HTML pages.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import Flask, Response, current_app, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, InternalServerError

from tracker import jsoncodec

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
}


class ApiError(Exception):
    """An error raised by a service or view, answered as JSON."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        fields: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or STATUS_CODES.get(status, "error")
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn Marshmallow's nested messages into ``{"a.0.b": [msg, ...]}``."""
    if isinstance(messages, Mapping):
        out: dict[str, list[str]] = {}
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten_messages(value, path))
        return out
    if isinstance(messages, (list, tuple)) and all(isinstance(m, str) for m in messages):
        return {prefix or "_schema": list(messages)}
    if isinstance(messages, (list, tuple)):
        out = {}
        for item in messages:
            out.update(flatten_messages(item, prefix))
        return out
    return {prefix or "_schema": [str(messages)]}


def error_response(
    status: int,
    message: str,
    code: str | None = None,
    fields: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"code": code or STATUS_CODES.get(status, "error"), "message": message}
    if fields:
        body["fields"] = dict(fields)
    response = jsonify({"error": body})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _webargs_fields(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """webargs nests messages under the location (``json``, ``query``…)."""
    messages = data.get("errors") or data.get("messages") or {}
    out: dict[str, list[str]] = {}
    for location, errors in messages.items():
        if location in ("json", "query", "form", "headers", "view_args", "files"):
            out.update(flatten_messages(errors))
        else:
            out.update(flatten_messages({location: errors}))
    return out


def http_exception_response(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    fields = _webargs_fields(data) if data else {}
    message = data.get("message") or (error.description if status != 500 else "Internal server error")
    if status == 422 and not data.get("message"):
        message = "The request did not validate"
    headers = dict(data.get("headers") or {})
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return error_response(status, str(message), fields=fields, headers=headers)


def body_limit(config_key: str) -> Callable[[F], F]:
    """Give one view its own request-size limit (a config key holding bytes)."""

    def decorator(view: F) -> F:
        view.body_limit_key = config_key  # type: ignore[attr-defined]
        return view

    return decorator


def _refuse_oversized_body() -> None:
    """Answer 413 from the declared length, before any byte is read."""
    view = current_app.view_functions.get(request.endpoint or "")
    key = getattr(view, "body_limit_key", None)
    limit = current_app.config[key] if key else current_app.config.get("MAX_CONTENT_LENGTH")
    if key:
        request.max_content_length = limit
    if limit is not None and request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"The request body is larger than {limit} bytes.")


def _wants_json() -> bool:
    return request.path.startswith("/api/")


# Paths with an error format of their own (the OpenRosa server answers XML):
# prefix → render(status, message, headers).
ERROR_RENDERERS: dict[str, Callable[[int, str, Mapping[str, str]], Response]] = {}


def _own_format(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response | None:
    for prefix, render in ERROR_RENDERERS.items():
        if request.path.startswith(prefix):
            return render(status, message, headers or {})
    return None


def _json_options(response: Response) -> Response:
    """Flask's automatic ``OPTIONS`` answer is empty HTML; under ``/api`` it lists the methods as JSON."""
    if request.method == "OPTIONS" and _wants_json() and response.mimetype != "application/json":
        allowed = [m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()]
        response.set_data(jsoncodec.dumps_bytes({"allow": allowed}))
        response.mimetype = "application/json"
    return response


def register_error_handlers(app: Flask) -> None:
    """Install the JSON handlers; pages outside ``/api`` keep Flask's HTML."""
    app.before_request(_refuse_oversized_body)
    app.after_request(_json_options)

    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError) -> Response:
        if (own := _own_format(error.status, error.message, error.headers)) is not None:
            return own
        return error_response(error.status, error.message, error.code, error.fields, error.headers)

    @app.errorhandler(ValidationError)
    def handle_validation_error(error: ValidationError) -> Response:
        return error_response(422, "The request did not validate", fields=flatten_messages(error.messages))

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException) -> Any:
        status = error.code or 500
        if (own := _own_format(status, error.description if status != 500 else "Internal server error")) is not None:
            return own
        if not _wants_json():
            return error
        return http_exception_response(error)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if (own := _own_format(500, "Internal server error")) is not None:
            return own
        if not _wants_json():
            return InternalServerError()
        return error_response(500, "Internal server error")
