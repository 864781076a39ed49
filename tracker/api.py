"""The flask-smorest ``Api``, adapted to the project's single error shape."""
from __future__ import annotations

from typing import Any

import flask_smorest
from flask_smorest import Api as SmorestApi
from marshmallow import Schema, missing
from webargs.core import is_json
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from schemas.errors import ErrorSchema
from tracker import inputs
from tracker.errors import ApiError


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` in every route stops at 2**31 - 1 (PostgreSQL ``integer`` ids): a larger id is a 404, not a 500."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 (Werkzeug's name)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


class Parser(FlaskParser):
    """webargs' Flask parser: every JSON body of the API is read here, with orjson, and checked.

    Overrides ``load_json``, the location loader webargs documents for
    parsers to replace: an empty body, a body orjson refuses (numbers beyond
    64 bits, NaN, lone surrogates) or a malformed one goes to webargs' own
    reader, which takes it or answers 400. :func:`tracker.inputs.load_json`
    then refuses, with a 400 naming the field, what no part of the app may be
    given: NUL characters, lone surrogates, nesting too deep to walk.
    """

    def load_json(self, req: Any, schema: Schema) -> Any:
        if not is_json(req.mimetype):
            return missing
        try:
            return inputs.load_json(req.get_data(cache=True), lambda _data: super(Parser, self).load_json(req, schema))
        except inputs.Refused as refused:
            raise ApiError(400, f"The JSON body cannot be accepted: {refused.reason}",
                           fields={refused.where or "_body": [refused.reason]}) from None


class Blueprint(flask_smorest.Blueprint):
    """The project's API blueprints: flask-smorest's, with the faster body parser."""

    ARGUMENTS_PARSER = Parser()


class Api(SmorestApi):
    """Generates the OpenAPI document from the schemas; errors use our shape."""

    ERROR_SCHEMA = ErrorSchema

    def init_app(self, app: Any, *, spec_kwargs: dict[str, Any] | None = None) -> None:
        """Complete every operation's error answers; serve the document's page at ``/docs/api``."""
        from tracker.docs.spec import ErrorResponsesPlugin, one_of
        from tracker.docs.views import bp as docs_bp

        app.url_map.converters["int"] = BoundedIntConverter  # before any route is added
        kwargs = dict(spec_kwargs or {})
        kwargs["extra_plugins"] = [*kwargs.get("extra_plugins", ()), ErrorResponsesPlugin()]
        super().init_app(app, spec_kwargs=kwargs)
        self.ma_plugin.converter.add_attribute_function(one_of)  # before the blueprints' schemas are read
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "api-docs.openapi_json")
        self.spec.path(rule=rule, operations={"get": {
            "summary": "This OpenAPI document", "tags": ["docs"],
            "responses": {"200": {"description": "OpenAPI 3 document",
                                  "content": {"application/json": {"schema": {"type": "object"}}}}},
        }})
        app.register_blueprint(docs_bp)

    def _register_error_handlers(self) -> None:
        from tracker.errors import register_error_handlers

        register_error_handlers(self._app)

    def handle_http_exception(self, error: HTTPException) -> Any:  # pragma: no cover - unused
        from tracker.errors import http_exception_response

        return http_exception_response(error)
