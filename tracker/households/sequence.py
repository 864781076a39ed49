"""The server's monotonic change sequence (the pull cursor).

One counter row, bumped with ``UPDATE … RETURNING``: the row lock is held
until the transaction ends, so sequence numbers become visible in the order
they were handed out and a pull never skips a change that commits late.
"""
from __future__ import annotations

from sqlalchemy import insert, select, update

from tracker.extensions import db
from tracker.households.models import SyncCounter

COUNTER = "changes"


def allocate(count: int = 1) -> int:
    """Reserve ``count`` numbers; returns the first. Caller's transaction."""
    table = SyncCounter.__table__
    stmt = update(table).where(table.c.name == COUNTER).values(value=table.c.value + count).returning(table.c.value)
    last = db.session.execute(stmt).scalar()
    if last is None:  # the migration seeds the row; tolerate a bare schema too
        db.session.execute(insert(table).values(name=COUNTER, value=count))
        last = count
    return int(last) - count + 1


def current() -> int:
    return int(db.session.scalar(select(SyncCounter.value).where(SyncCounter.name == COUNTER)) or 0)
