"""Reading "what the server knew at T" exactly: waiting for writes already stamped.

See the package doc: :func:`append` stamps receipt times while it holds the
change counter row, until its commit. :func:`settle` takes that same lock
for an instant, on a connection of its own (so the report's transaction
never holds it), and thereby waits for the one writer that may hold a stamp
without having committed yet.
"""
from __future__ import annotations

from sqlalchemy import select

from tracker.extensions import db
from tracker.households.models import SyncCounter
from tracker.households.sequence import COUNTER


def settle() -> None:
    """Return once every household write stamped before this call has committed.

    Call it before reading with an explicit ``known_at``: revisions stamped at
    or before a moment already past are then all visible, and no later
    commit can carry such a stamp.
    """
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # FOR SHARE waits for the writer holding the row (its UPDATE), then lets go at rollback.
            connection.execute(select(SyncCounter.value).where(SyncCounter.name == COUNTER).with_for_update(read=True))
        else:
            # SQLite has one write lock for the whole file: taking it waits for the writer.
            raw = connection.connection.driver_connection
            if not raw.in_transaction:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
        connection.rollback()
