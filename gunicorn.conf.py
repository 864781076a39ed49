"""gunicorn settings read from the project folder (``make serve``, ``make demo`` and the benchmarks).

Workers, threads and the address are given on the command line; this file
only tunes each worker's garbage collector once the app is loaded:

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
from typing import Any


def post_worker_init(worker: Any) -> None:
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
