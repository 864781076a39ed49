"""A set's kept tallies summed for one day, stored so that every worker and host reads them at once.

Summing the kept tallies for a national report reads some 35,000 rows (a
week's running totals per commune and type, plus the days since). The sums
of a whole set for a day change only when a change dated on or before that
day is written, so the first report of a day stores them
(:func:`keep`) and later first reports, in any worker or after a
restart, read one row instead (:func:`read`).

Staying exact:

* every write to a set's tallies (:func:`written`, in the writer's
  transaction) moves the set's ``generation`` and deletes the stored days
  the change reaches (on or after its earliest delta; all of them after a
  recount);
* :func:`keep` stores a day's sums only if the generation is still the one
  read before they were summed (``since``), checked and written in a
  transaction of its own that holds the set's tally state: a write that
  committed in between makes it skip; a write after it deletes the row;
* reports use them only where the kept tallies cover the report at all
  (``kept.covers``), and only for the whole set (no scope, every commune).

A day not stored yet is summed from the last stored day of the week before
it plus the day rows since (a day's changes, not a week's running totals
and days), when there is one: a deadline day's pushes delete that day's
sums again and again, not the day before's.

Storing is a courtesy: when a writer holds the database (SQLite) or the
set's tally state (PostgreSQL), it is skipped rather than waited for (the
request that summed may itself be inside a write).
"""
from __future__ import annotations

import logging
import zlib
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

from tracker.extensions import db
from tracker.progress.models import StoredAnswer, TallySnapshot, TallyState

log = logging.getLogger(__name__)

Sums = dict[str, list[int]]


def generation(set_id: int) -> int | None:
    """The set's tally generation now (None: its tallies are not kept)."""
    return db.session.scalar(select(TallyState.generation).where(TallyState.boundary_set_id == set_id))


def written(set_id: int, first_day: date | None) -> None:
    """A write to the set's tallies reaching ``first_day`` and later (None: every day); the writer's transaction.

    The stored sums and answers of those days are deleted.

    The state row is updated first: a concurrent :func:`keep` holding it makes
    this wait, then its row is deleted here.
    """
    db.session.execute(update(TallyState).where(TallyState.boundary_set_id == set_id)
                       .values(generation=TallyState.generation + 1))
    for model in (TallySnapshot, StoredAnswer):
        gone = delete(model).where(model.boundary_set_id == set_id)
        if first_day is not None:
            gone = gone.where(model.day >= first_day)
        db.session.execute(gone)


def read(set_id: int, day: date) -> Sums | None:
    """The stored sums of ``day`` by commune code (``""``: no commune), or None."""
    row = db.session.execute(select(TallySnapshot.codes, TallySnapshot.sums)
                             .where(TallySnapshot.boundary_set_id == set_id, TallySnapshot.day == day)).first()
    if row is None:
        return None
    if not row.codes:
        return {}  # a day with no household known yet
    codes = row.codes.split("\n")
    values = np.frombuffer(zlib.decompress(row.sums), dtype="<i8").reshape(len(codes), -1).tolist()
    return dict(zip(codes, values))


def read_before(set_id: int, day: date, days: int) -> tuple[date, Sums] | None:
    """The stored sums of the last day before ``day``, no more than ``days`` before it, with that day."""
    earlier = db.session.scalar(select(TallySnapshot.day).where(
        TallySnapshot.boundary_set_id == set_id, TallySnapshot.day < day,
        TallySnapshot.day >= day - timedelta(days=days)).order_by(TallySnapshot.day.desc()).limit(1))
    if earlier is None:
        return None
    found = read(set_id, earlier)
    return None if found is None else (earlier, found)


def keep(set_id: int, day: date, since: int, sums: Sums) -> bool:
    """Store ``sums`` as ``day``'s if the set's generation is still ``since``; True when stored."""
    codes = list(sums)
    values = np.array([sums[c] for c in codes], dtype="<i8")
    return store(TallySnapshot, set_id, since, {"day": day},
                 {"codes": "\n".join(codes), "sums": zlib.compress(values.tobytes(), 1)})


def store(model: type[db.Model], set_id: int, since: int, key: dict[str, Any], values: dict[str, Any]) -> bool:
    """Put the row of ``model`` with ``key`` (and the set) in place if the set's generation is still ``since``.

    In a transaction of its own that holds the set's tally state, so a write
    to the tallies either committed before (and the row is not stored) or
    comes after (and deletes it). True when stored.
    """
    sqlite = db.engine.dialect.name == "sqlite"
    table = model.__table__
    with db.engine.connect() as connection:
        try:
            if sqlite:
                connection.exec_driver_sql("PRAGMA busy_timeout=0")
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            now = connection.scalar(select(TallyState.generation).where(TallyState.boundary_set_id == set_id)
                                    .with_for_update(read=True, nowait=True))
            if now != since:
                connection.rollback()
                return False
            # Written over, not deleted and inserted: a worker storing the same row at once waits, then overwrites.
            upsert = (pg_insert if connection.dialect.name == "postgresql" else sqlite_insert)(table)
            connection.execute(upsert.values(boundary_set_id=set_id, **key, **values).on_conflict_do_update(
                index_elements=[c.name for c in table.primary_key.columns], set_=values))
            connection.commit()
            return True
        except OperationalError as exc:  # a writer holds the database or the set: not waited for
            connection.rollback()
            log.debug("%s %s not stored: %s", table.name, key, exc)
            return False
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA busy_timeout=30000")
