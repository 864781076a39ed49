"""Small request helpers shared by the JSON views."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import request

from tracker.errors import ApiError

F = TypeVar("F", bound=Callable[..., Any])


def is_json_mimetype(mimetype: str) -> bool:
    return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))


def require_json(view: F) -> F:
    """415 unless the body is declared JSON (checked before parsing the body)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not is_json_mimetype(request.mimetype):
            raise ApiError(415, "The body must be JSON (Content-Type: application/json).")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def remote_addr() -> str:
    """The caller's address as the WSGI server saw it (proxies are not trusted here)."""
    return (request.remote_addr or "")[:64]
