"""Small request helpers shared by the JSON views."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import quote

from flask import Flask, Response, after_this_request, current_app, has_request_context, request

from tracker.errors import ApiError

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)
_PENDING = "tracker.after_response"  # in the request's environ: an app context (and its g) may outlive a request


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


def after_response(work: Callable[[], Any]) -> None:
    """Run ``work`` once this request's answer has been sent (outside a request: now).

    For what a request stores for later requests and other workers (a
    day's sums, a whole map answer) and the client does not wait for: the
    WSGI server calls the answer's ``close()`` after writing it, and the
    work runs then, in an app context of its own. A failure is logged.
    """
    if not has_request_context():
        work()
        return
    pending: list[Callable[[], Any]] | None = request.environ.get(_PENDING)
    if pending is None:
        pending = request.environ[_PENDING] = []
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        after_this_request(lambda response: _when_sent(response, app, pending))
    pending.append(work)


def _when_sent(response: Response, app: Flask, pending: list[Callable[[], Any]]) -> Response:
    def run() -> None:
        with app.app_context():
            for work in pending:
                try:
                    work()
                except Exception:  # noqa: BLE001 - what is stored for later is a cache: the answer went out
                    log.exception("work after the answer failed")

    response.call_on_close(run)
    return response
