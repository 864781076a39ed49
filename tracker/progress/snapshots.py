"""A set's kept tallies summed for one day, stored so that every worker and host reads them at once.

Summing the kept tallies for a national report reads some 35,000 rows (a
week's running totals per commune and type, plus the days since). The sums
of a whole set for a day change only when a change dated on or before that
day is written, so the first report of a day stores them
(:func:`keep`) and later first reports, in any worker or after a
restart, read one row instead (:func:`stored_near`).

Staying exact:

* every write to a set's tallies (:func:`written`, in the writer's
  transaction) moves the set's ``generation``. A stored day is kept with
  the generation it was summed at; the write's day deltas go to the
  journal (``tally_journal``) when they reach a stored day, and a stored
  day reads back as its sums plus the journal rows written since, dated on
  or before it (:func:`journal_since`). A recount deletes every stored day
  and the journal;
* :func:`keep` stores a day's sums only if the generation is still the one
  read before they were summed (``since``), checked and written in a
  transaction of its own that holds the set's tally state: a write that
  committed in between makes it skip;
* reports use them only where the kept tallies cover the report at all
  (``kept.covers``), and only for the whole set (no scope, every commune).

So new households (whose deltas reach every day) or a late status update
cost the next report a few journal rows, not a new sum of 35,000 rows.
Days stored more than ``JOURNAL_WRITES`` writes ago are given up, and the
journal rows only they needed after twice as many writes.

A day not stored yet is summed from the nearest stored day at most a week
away plus (or less) the day rows between: a deadline day's first report
starts from the day before's.

Storing is a courtesy: when a writer holds the database (SQLite) or the
set's tally state (PostgreSQL), it is skipped rather than waited for (the
request that summed may itself be inside a write).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import OperationalError
from zlib_ng import zlib_ng

from tracker.dbtypes import insert_into
from tracker.extensions import db
from tracker.progress.models import StoredAnswer, TallyJournal, TallySnapshot, TallyState
from tracker.progress.tally_events import COUNTS, VALUES

log = logging.getLogger(__name__)



class Sums(NamedTuple):
    """Per commune code (``""``: no commune), a row of sums: present, the counts by support type, the funding."""

    codes: list[str]
    values: np.ndarray  # (len(codes), WIDTH) int64


WIDTH = len(VALUES) + len(COUNTS)  # each count once per support type
JournalRow = tuple[date, str, str, list[int]]  # day, commune code, support type, values
# A stored day summed this many writes to its set ago is given up (its journal could be long).
JOURNAL_WRITES = 200


class Stored(NamedTuple):
    day: date
    generation: int  # the set's tally generation the sums are exact at
    sums: Sums


def generation(set_id: int) -> int | None:
    """The set's tally generation now (None: its tallies are not kept)."""
    return db.session.scalar(select(TallyState.generation).where(TallyState.boundary_set_id == set_id))


def written(set_id: int, first_day: date | None, rows: Sequence[JournalRow] = ()) -> None:
    """A write to the set's tallies, its day deltas ``rows``, reaching ``first_day`` and later (None: every day).

    In the writer's transaction. The set's generation moves on; the stored
    answers of the days reached are deleted; the stored day sums stay, and
    ``rows`` go to the journal when a stored day is reached (after a recount,
    None, every stored day and the journal are deleted instead).

    The state row is updated first: a concurrent :func:`keep` holding it makes
    this wait, then sees its row.
    """
    now = db.session.scalar(update(TallyState).where(TallyState.boundary_set_id == set_id)
                            .values(generation=TallyState.generation + 1).returning(TallyState.generation))
    answers = delete(StoredAnswer).where(StoredAnswer.boundary_set_id == set_id)
    if first_day is None:
        db.session.execute(answers)
        for model in (TallySnapshot, TallyJournal):
            db.session.execute(delete(model).where(model.boundary_set_id == set_id))
        return
    db.session.execute(answers.where(StoredAnswer.day >= first_day))
    if now is None or not rows:
        return
    # Days stored so long ago that their journal would be long are given up, then the journal they needed,
    # twice as late: a report that read such a day just before it went still finds every row it needs.
    db.session.execute(delete(TallySnapshot).where(TallySnapshot.boundary_set_id == set_id,
                                                   TallySnapshot.generation < now - JOURNAL_WRITES))
    db.session.execute(delete(TallyJournal).where(TallyJournal.boundary_set_id == set_id,
                                                  TallyJournal.generation <= now - 2 * JOURNAL_WRITES))
    reached = select(TallySnapshot.day).where(TallySnapshot.boundary_set_id == set_id,
                                              TallySnapshot.day >= first_day).limit(1)
    if db.session.scalar(reached) is not None:
        db.session.execute(insert(TallyJournal), [
            {"boundary_set_id": set_id, "generation": now, "day": day, "commune_code": code,
             "support_type": support, **dict(zip(VALUES, values))} for day, code, support, values in rows])


def stored_near(set_id: int, day: date, days: int) -> Stored | None:
    """The stored sums of ``day``, else of the nearest stored day at most ``days`` away (before, on a tie).

    Exact at the generation they were summed at: see :func:`journal_since`.
    """
    near = db.session.scalars(select(TallySnapshot.day).where(
        TallySnapshot.boundary_set_id == set_id, TallySnapshot.day >= day - timedelta(days=days),
        TallySnapshot.day <= day + timedelta(days=days))).all()
    if not near:
        return None
    nearest = min(near, key=lambda d: (abs((d - day).days), d))
    row = db.session.execute(select(TallySnapshot.day, TallySnapshot.generation, TallySnapshot.codes,
                                    TallySnapshot.sums)
                             .where(TallySnapshot.boundary_set_id == set_id, TallySnapshot.day == nearest)).first()
    if row is None:
        return None
    codes = row.codes.split("\n") if row.codes else []  # none: a day with no household known yet
    values = np.frombuffer(zlib_ng.decompress(row.sums), dtype="<i8").reshape(len(codes), WIDTH)
    return Stored(row.day, row.generation, Sums(codes, values))


def journal_since(stored: Stored) -> list[Any]:
    """What picks the journal rows a stored day lacks: written after its generation, dated on or before it."""
    return [TallyJournal.generation > stored.generation, TallyJournal.day <= stored.day]


def keep(set_id: int, day: date, since: int, sums: Sums) -> bool:
    """Store ``sums`` as ``day``'s, exact at generation ``since``, if that is still the set's; True when stored."""
    packed = zlib_ng.compress(np.ascontiguousarray(sums.values, dtype="<i8").tobytes(), 1)
    return store(TallySnapshot, set_id, since, {"day": day},
                 {"codes": "\n".join(sums.codes), "sums": packed, "generation": since})


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
            else:  # a cache: a crash may lose it (it is summed again), so the commit does not wait for the disk
                connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            now = connection.scalar(select(TallyState.generation).where(TallyState.boundary_set_id == set_id)
                                    .with_for_update(read=True, nowait=True))
            if now != since:
                connection.rollback()
                return False
            # Written over, not deleted and inserted: a worker storing the same row at once waits, then overwrites.
            upsert = insert_into(table, connection.dialect.name)
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
