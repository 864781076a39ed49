"""Fast JSON for the hot paths (request bodies, answers, JSON columns), exact where it must be.

orjson encodes and decodes several times faster than the standard library,
which matters for pushes of hundreds of records. Where orjson refuses a
value the standard library takes (an integer beyond 64 bits, ``NaN``, a
lone surrogate), the standard library does the work, so what is accepted,
and every error message, stays what it was. Content hashes keep the
standard library's exact output (``sync.records``).
"""
from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> str:
    """Compact JSON text, non-ASCII kept as is."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def dumps_bytes(value: Any) -> bytes:
    """:func:`dumps` as UTF-8 bytes, for a response body."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(data: bytes | str) -> Any:
    """Parse JSON; anything orjson refuses goes to the standard library, which accepts it or raises."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)
