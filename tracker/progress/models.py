"""Commune tallies kept by the household ledger (see :mod:`tracker.progress.kept`)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db
from tracker.households.models import FundingColumns

# The day rows that change a unit's completed count: what its finish day is found from.
COMPLETED_DAY_ROWS = "grain = 'd' AND completed <> 0"


class TallyValues(FundingColumns):
    """The counts and money a tally row holds (see :data:`tracker.progress.tally_events.VALUES`)."""

    present: Mapped[int] = mapped_column(BigInteger, default=0)
    households: Mapped[int] = mapped_column(BigInteger, default=0)
    started: Mapped[int] = mapped_column(BigInteger, default=0)
    completed: Mapped[int] = mapped_column(BigInteger, default=0)
    handed_over: Mapped[int] = mapped_column(BigInteger, default=0)
    in_window: Mapped[int] = mapped_column(BigInteger, default=0)
    withdrawn: Mapped[int] = mapped_column(BigInteger, default=0)
    needs_review: Mapped[int] = mapped_column(BigInteger, default=0)


class CommuneTally(TallyValues, db.Model):
    """The sum of the tally deltas of one (set, commune, support type) on one day, or in one month.

    ``grain`` is ``d`` (``day`` is that day), ``m`` (``day`` is the first
    of the month; the row sums the month's day rows) or ``c`` (``day`` is
    an anchor, five a month; the row sums every delta dated before it, see
    :mod:`tracker.progress.cumulative`). ``commune_code`` is ``""`` for the
    households no commune took.
    """

    __tablename__ = "commune_tallies"
    # On SQLite the rows are stored in key order, so a report reads its ranges
    # of days sequentially (half the time of a table with a separate key index).
    # The index reads one commune's days with a completed change as a range
    # (the finish days of finished communes; see :mod:`tracker.progress.completions`):
    # only those day rows, a fifth of them, so a read skips the others.
    __table_args__ = (
        Index("ix_commune_tallies_completed_by_commune", "boundary_set_id", "commune_code", "day",
              sqlite_where=text(COMPLETED_DAY_ROWS), postgresql_where=text(COMPLETED_DAY_ROWS)),
        {"sqlite_with_rowid": False},
    )

    boundary_set_id: Mapped[int] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"), primary_key=True)
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    commune_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    support_type: Mapped[str] = mapped_column(String(16), primary_key=True)


class TallyState(db.Model):
    """Up to which revision a set's tallies are kept: reports use them only when that is the last one stored.

    A write outside the ledger (or a restore of an older copy) leaves the
    mark behind, and reports count from the revisions until a rebuild.
    """

    __tablename__ = "tally_states"

    boundary_set_id: Mapped[int] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"), primary_key=True)
    last_revision_id: Mapped[int | None] = mapped_column(BigInteger)
    # The first and last anchors with running-total (``c``) rows; None: none yet.
    cumulative_from: Mapped[date | None] = mapped_column(Date)
    cumulative_to: Mapped[date | None] = mapped_column(Date)
    # Moves with every write to the set's tallies: a day's sums are stored only if no write fell meanwhile.
    generation: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class TallySnapshot(db.Model):
    """A set's kept tallies summed for one day, stored by the first report of that day for every worker.

    ``codes`` lists the communes (one per line, ``""`` for the households no
    commune took); ``sums`` holds their sums, deflated, see
    :mod:`tracker.progress.snapshots`, exact at the set's tally
    ``generation``; later writes reaching ``day`` are read from the journal.
    """

    __tablename__ = "tally_snapshots"

    boundary_set_id: Mapped[int] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    codes: Mapped[str] = mapped_column(Text)
    sums: Mapped[bytes] = mapped_column(LargeBinary)
    # The set's tally generation the sums are exact at: the journal's later rows are added when read.
    generation: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class TallyJournal(TallyValues, db.Model):
    """The day deltas of one write to a set's tallies, kept while a stored day sum may need them.

    A write reaching a stored day does not delete it: its deltas are kept here
    under the write's ``generation``, and a stored day summed at generation
    ``g`` reads back as its sums plus the rows after ``g`` dated on or before
    it (see :mod:`tracker.progress.snapshots`).
    """

    __tablename__ = "tally_journal"

    boundary_set_id: Mapped[int] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"), primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    commune_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    support_type: Mapped[str] = mapped_column(String(16), primary_key=True)


class StoredAnswer(db.Model):
    """A whole answer built from a set's figures on ``day`` (the national map, gzipped), stored for every worker.

    ``name`` says which answer (``map:6``: the communes map at zoom 6);
    ``key`` names everything else it was built from (set version, plan
    revision); deleted with the day's stored sums (see
    :mod:`tracker.progress.stored_answers`).
    """

    __tablename__ = "stored_answers"

    boundary_set_id: Mapped[int] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    etag: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)
