"""The one gate for the bytes of every request: path, query, form fields and JSON bodies.

PostgreSQL cannot store a NUL character, UTF-8 cannot encode a lone
surrogate, and the standard library's JSON parser recurses once per level of
nesting. A request carrying any of these is refused here with a 400 (JSON under ``/api``, the
site's error page elsewhere) before a view, a schema or the database sees it,
so no endpoint has to remember to check.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from flask import Request, abort, request
from werkzeug.exceptions import RequestEntityTooLarge

from tracker.errors import ApiError

MAX_DEPTH = 32  # a pushed record is four levels deep
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
SURROGATE = re.compile("[\ud800-\udfff]")


class BoundedRequest(Request):
    """A request whose body is never cut short without a word.

    Werkzeug stops reading a body of no declared length (chunked) at the
    size limit and returns what it read as if it were the whole body, so a
    view would parse the first bytes of an oversized upload. Reading the
    whole body here answers 413 instead, for every view and format.
    """

    def get_data(self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False) -> Any:
        data = super().get_data(cache=cache, as_text=False, parse_form_data=parse_form_data)
        limit = self.max_content_length
        if self.content_length is None and limit is not None and len(data) >= limit:
            raise RequestEntityTooLarge(f"The request body is larger than {limit - 1} bytes.")
        return data.decode(errors="replace") if as_text else data


class Refused(ValueError):
    """A value no part of the application may be given; ``where`` is its field path."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(reason)
        self.where = where
        self.reason = reason


def refuse(where: str, reason: str) -> None:
    """Answer 400 in the format of the part of the site asked."""
    if request.path.startswith("/api/"):
        raise ApiError(400, f"The request cannot be accepted: {reason}", fields={where or "_request": [reason]})
    abort(400, description=reason)


def check_parameters() -> None:
    """Refuse a NUL character in the path, a query parameter or a form field (names and values).

    Requests that matched no route are left to answer 404 as before.
    """
    if request.routing_exception is not None:
        return
    if "\x00" in request.path:
        refuse("path", "The path contains a NUL character.")
    sources: list[tuple[str, Iterable[tuple[str, str]]]] = [("query", request.args.items(multi=True))]
    if request.mimetype in FORM_TYPES:
        sources.append(("form", request.form.items(multi=True)))
    for location, items in sources:
        for key, value in items:
            if "\x00" in key or "\x00" in value:
                refuse(key.replace("\x00", "\\0"), f"A {location} parameter contains a NUL character.")


def load_json(data: bytes, fallback: Callable[[bytes], Any]) -> Any:
    """Parse a JSON body and check every value in it; raises :class:`Refused`.

    orjson parses almost every body. What it refuses goes to ``fallback``
    (the standard library, which accepts lone surrogates, integers beyond 64
    bits and ``NaN``, or raises the usual "invalid JSON" error); nesting too
    deep for either to parse is refused here.
    """
    try:
        value = orjson.loads(data)
        strict_strings = False
    except RecursionError:
        raise Refused("", f"The JSON is nested more than {MAX_DEPTH} levels deep.") from None
    except orjson.JSONDecodeError:
        try:
            value = fallback(data)
        except RecursionError:
            raise Refused("", f"The JSON is nested more than {MAX_DEPTH} levels deep.") from None
        strict_strings = True
    check_value(value, strict_strings)
    return value


def check_value(value: Any, strict_strings: bool = True) -> None:
    """Walk a parsed JSON value; raise :class:`Refused` naming the first bad value's path.

    ``strict_strings`` also looks for lone surrogates (orjson never yields
    them). Numbers are left to the schemas: an integer beyond 64 bits or a
    NaN in a pushed record is that record's error, not the whole batch's.
    """
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            _check_string(item, path, strict_strings)
        elif isinstance(item, (dict, list)):
            if depth >= MAX_DEPTH:
                raise Refused(path, f"The JSON is nested more than {MAX_DEPTH} levels deep.")
            if isinstance(item, dict):
                for key, child in item.items():
                    child_path = f"{path}.{key}" if path else str(key)
                    _check_string(key, child_path, strict_strings)
                    stack.append((child, child_path, depth + 1))
            else:
                stack.extend((child, f"{path}.{index}" if path else str(index), depth + 1)
                             for index, child in enumerate(item))


def _check_string(text: str, path: str, strict: bool) -> None:
    if "\x00" in text:
        raise Refused(_printable(path), "A NUL character cannot be stored.")
    if strict and SURROGATE.search(text):
        raise Refused(_printable(path), "A lone UTF-16 surrogate is not text.")


def _printable(path: str) -> str:
    """A field path safe to echo back as JSON (its own NULs and surrogates escaped)."""
    return path.replace("\x00", "\\0").encode("utf-8", "backslashreplace").decode("utf-8")
