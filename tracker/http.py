"""Small request helpers shared by the JSON views."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import quote

from flask import Response, request

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


def attachment(body: Iterator[bytes], mimetype: str, filename: str) -> Response:
    """A streamed file download, its name safe in ASCII and exact in UTF-8.

    ``mimetype`` is sent as the one Content-Type, as given (a ``charset`` in
    it is not added a second time).
    """
    response = Response(body, content_type=mimetype)
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
