"""The flask-smorest ``Api``, adapted to the project's single error shape."""
from __future__ import annotations

from typing import Any

from flask_smorest import Api as SmorestApi
from werkzeug.exceptions import HTTPException

from schemas.errors import ErrorSchema


class Api(SmorestApi):
    """Generates the OpenAPI document from the schemas; errors use our shape."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        from tracker.errors import register_error_handlers

        register_error_handlers(self._app)

    def handle_http_exception(self, error: HTTPException) -> Any:  # pragma: no cover - unused
        from tracker.errors import http_exception_response

        return http_exception_response(error)
