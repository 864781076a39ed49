"""Requests that show figures read one state of the database, whatever commits while they read.

A report reads in several statements: whether the kept tallies cover it,
the running total before its date, the day rows since, the stored sums,
the finish days. Each statement on its own sees what was committed when it
began (PostgreSQL's READ COMMITTED; SQLite outside a transaction), so a
sync landing between two of them was counted in half of its figures: a
commune could show more houses completed than it has households. A
household's page read its revisions, assignments and conflicts apart too.

:func:`consistent_reads` makes a view's whole request one snapshot, begun
before its first statement (the caller's token included): on PostgreSQL a
``REPEATABLE READ`` transaction; on SQLite an explicit deferred ``BEGIN``,
whose first read fixes the state (WAL) until the view returns. Writers are
not held up on either. A report ``known_at`` a moment first waits for the
writes stamped by then to commit (:func:`tracker.households.ledger.settle`):
a snapshot taken before they did would miss them.

Only for views that write nothing in the request: what they store for
later runs once the answer is sent, in a session of its own
(:func:`tracker.http.after_response`).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import request

from tracker.extensions import db
from tracker.households import ledger

F = TypeVar("F", bound=Callable[..., Any])


def consistent_reads(view: F) -> F:
    """Run ``view`` with every read of its request in one snapshot, which ends with it (see the module doc)."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.args.get("known_at") is not None:
            ledger.settle()  # before the snapshot: the writes stamped by then are in it
        if not begin_snapshot():
            return view(*args, **kwargs)
        try:
            return view(*args, **kwargs)
        finally:
            db.session.rollback()  # nothing was written: the snapshot is let go before the answer is sent

    return wrapper  # type: ignore[return-value]


def begin_snapshot() -> bool:
    """Begin the session's transaction as one snapshot; False (nothing done) when one was begun already."""
    if db.session().in_transaction():
        return False
    if db.engine.dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return True
    connection = db.session.connection()
    if not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")
    return True
