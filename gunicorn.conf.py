"""gunicorn settings read from the project folder (``make serve``, ``make demo`` and the benchmarks).

Workers, threads and the address are given on the command line; this file
loads what every first report and map need in each worker before it takes
requests (:mod:`tracker.progress.warm`), then tunes its garbage collector:

* ``gc.freeze()`` moves everything loaded at start-up (boundary indexes,
  SQLAlchemy metadata, schemas) out of the collector's sight, so full
  collections no longer walk it again and again;
* a larger first-generation threshold: parsing and validating a batch of a
  few hundred records allocates tens of thousands of short-lived containers,
  and the default (700) stops the request for a collection dozens of times.

Measured with ``bench/sync.py``: about 3 points more of the push ceiling, and
steadier runs.
"""
import gc
import json
from typing import Any

from gunicorn import util


def post_worker_init(worker: Any) -> None:
    from tracker.progress.warm import warm

    warm(worker.wsgi)  # the set's units, plan targets and map outlines, before the first request
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


# ---- errors gunicorn answers itself --------------------------------------------------------
#
# A request line or header too long or malformed for gunicorn never reaches the
# app; gunicorn then writes its own small HTML page. Every client of this server
# speaks JSON under /api, so those answers use the API's error shape instead.
# gunicorn's limits are raised to their ceilings (a line of 8190 bytes, header
# fields of 16 KiB) so that ordinary long URLs and tokens reach the app.

limit_request_line = 8190
limit_request_field_size = 16 * 1024
limit_request_fields = 100

_CODES = {400: "bad_request", 403: "forbidden", 414: "uri_too_long", 431: "request_header_fields_too_large",
          500: "internal_error", 501: "not_implemented"}


def _json_error(sock: Any, status: int, reason: str, message: str) -> None:
    """gunicorn's ``util.write_error``, answering with the API's JSON error shape."""
    if message.startswith("Request Line is too large"):
        status, reason = 414, "URI Too Long"
    body = json.dumps({"error": {"code": _CODES.get(status, "error"), "message": message or reason}}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"X-Content-Type-Options: nosniff\r\nContent-Length: {len(body)}\r\n\r\n").encode("latin-1")
    util.write_nonblock(sock, head + body)


util.write_error = _json_error
