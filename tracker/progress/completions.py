"""A unit's completed count as changes by day, up to ``as_of``: what its finish day is found from.

The report's ``completed`` figure of a unit on a day is the running sum of
these deltas up to that day (:func:`tracker.progress.pace.reached_on` finds
the first day it reached the plan). A household counts as completed from
the later of the day it entered the programme and the day it was supported
until the day it is withdrawn, the ``completed`` step of
:func:`tracker.progress.tally_events.deltas`; so the deltas are, by
construction, the same from either source:

* :func:`kept_completions`: the ``completed`` column of the ledger's day
  rows (usable when :func:`tracker.progress.kept.covers` the report), read
  by commune through the ``(set, grain, commune, day)`` index, or summed by
  day in SQL over a district's or province's communes;
* :func:`counted_completions`: the revisions known at ``known_at``, counted
  by commune, first day and withdrawal day in SQL, each group turned into
  a ``+n`` and maybe a ``-n``.

Both take the wanted units as ``{(level, code): their communes}``, ``None``
standing for every commune (the ``total`` row of a report without a scope;
a scoped report names its communes), and leave out the households no
commune took, as the report's rows do.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import (
    ARRAY,
    String,
    Table,
    any_,
    bindparam,
    case,
    func,
    literal_column,
    null,
    select,
    text,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.compiler import compiles

from tracker.extensions import db
from tracker.households.models import HouseholdRevision, RevisionAssignment
from tracker.progress.context import ReportContext
from tracker.progress.counting import known_filter
from tracker.progress.models import COMPLETED_DAY_ROWS, CommuneTally

HR, RA, T = HouseholdRevision, RevisionAssignment, CommuneTally
BY_COMMUNE = "ix_commune_tallies_completed_by_commune"
Key = tuple[str, str]
Deltas = dict[date, int]
Units = Mapping[Key, Collection[str] | None]
# More communes than this among the finished units (communes, and those of finished districts and
# provinces) in a report without a scope: every commune's day rows are read in one pass and added up here,
# rather than looked up commune by commune or summed group by group (716 districts took longer that way).
MANY_COMMUNES = 2000
# Reads in one statement: at most this many (SQLite allows 500 compound selects), about this many codes bound.
PARTS_AT_ONCE = 200
CODES_AT_ONCE = 10_000


def kept_completions(ctx: ReportContext, units: Units) -> dict[Key, Deltas]:
    """Each unit's completed deltas by day, from the kept day rows (only those with a completed change).

    The finished communes' rows are read by commune; a district, province
    or the total whose communes are not all among them is summed by day in
    SQL instead, rather than shipping each of its communes' rows; when the
    finished units hold most communes, every commune's rows are read at
    once. Every read goes in one statement (a few for hundreds of groups).
    """
    named = {code for communes in units.values() for code in communes or ()}
    everything = ctx.scope is None and len(named) > MANY_COMMUNES
    singles = {code for (level, _), communes in units.items() if level == "commune" for code in communes or ()}
    parts: list[tuple[Any, int]] = []
    if everything or singles:
        by_commune = (select(literal_column("-1").label("unit"), T.commune_code.label("commune"), *_changes())
                      .where(*_kept_rows(ctx)).group_by(T.commune_code, T.day))
        if not everything:
            by_commune = _of_communes(by_commune, singles)
        parts.append((by_commune, 0 if everything else len(singles)))
    summed = [(key, communes) for key, communes in units.items()
              if not (everything or (communes is not None and set(communes) <= singles))]
    for index, (_, communes) in enumerate(summed):
        query = (select(literal_column(str(index)).label("unit"), null().label("commune"), *_changes())
                 .where(*_kept_rows(ctx)).group_by(T.day))
        if communes is not None:
            query = _of_communes(query, communes)
        parts.append((query, len(communes or ())))
    per_commune: dict[str, Deltas] = {}
    per_unit: dict[int, Deltas] = {}
    days = _Days()
    for batch in _batches(parts):
        statement = batch[0] if len(batch) == 1 else union_all(*batch)
        for index, code, day, change in db.session.connection().execute(statement).all():
            if change:
                target = per_commune.setdefault(code, {}) if index < 0 else per_unit.setdefault(index, {})
                target[days(day)] = int(change)
    out = {key: per_unit.get(index, {}) for index, (key, _) in enumerate(summed)}
    for key, communes in units.items():
        if key not in out:
            out[key] = _merged(per_commune, per_commune.keys() if communes is None else communes)
    return out


def _kept_rows(ctx: ReportContext) -> list[Any]:
    """The conditions every kept read shares: the set's day rows up to ``as_of`` that change ``completed``.

    Those rows are written as the by-commune index's own condition, word for
    word, so that both databases see the index holds them (a bound value
    would not tell SQLite, which then refuses the index it is told to use).
    """
    return [T.boundary_set_id == ctx.boundary_set.id, text(COMPLETED_DAY_ROWS), T.day <= ctx.as_of,
            T.commune_code != ""]


def _of_communes(query: Any, communes: Collection[str]) -> Any:
    """``query`` limited to ``communes``, read through the by-commune index.

    On PostgreSQL the codes go as one array parameter: the statement is the
    same for any number of communes, compiled once, rather than one
    parameter per commune (353 for a national report's finished communes).
    Without statistics SQLite prefers the key's range of days (every
    commune's rows up to ``as_of``), about eight times slower for a hundred
    communes at national scale, so it is told the index (``INDEXED BY``,
    see :func:`_sqlite_table_hint`).
    """
    codes = sorted(communes)
    if db.engine.dialect.name == "postgresql":
        return query.where(T.commune_code == any_(bindparam(None, codes, type_=ARRAY(String))))
    return query.where(T.commune_code.in_(codes)).with_hint(T, f"INDEXED BY {BY_COMMUNE}", dialect_name="sqlite")


@compiles(Table, "sqlite")
def _sqlite_table_hint(table: Table, compiler: Any, fromhints: Any = None, **kw: Any) -> str:
    """A table in a SQLite FROM clause with its hint, if the statement gives one (SQLAlchemy drops them)."""
    text = compiler.visit_table(table, fromhints=fromhints, **kw)
    hint = (fromhints or {}).get(table)
    return f"{text} {hint}" if hint and kw.get("asfrom") and hint not in text else text


def _changes() -> list[Any]:
    """The day (as the driver gives it) and the sum of the completed changes on it."""
    return [type_coerce(T.day, String).label("day"), func.sum(T.completed).label("change")]


def _batches(parts: list[tuple[Any, int]]) -> Iterable[list[Any]]:
    """The reads, a few at a time (see ``PARTS_AT_ONCE`` and ``CODES_AT_ONCE``); each with its codes bound."""
    batch: list[Any] = []
    codes = 0
    for query, size in parts:
        if batch and (len(batch) >= PARTS_AT_ONCE or codes + size > CODES_AT_ONCE):
            yield batch
            batch, codes = [], 0
        batch.append(query)
        codes += size
    if batch:
        yield batch


def counted_completions(ctx: ReportContext, units: Units) -> dict[Key, Deltas]:
    """Each unit's completed deltas by day, counted from the revisions known at ``known_at``."""
    entered = func.coalesce(HR.surveyed_on, HR.approved_on, HR.started_on, HR.completed_on, HR.handed_over_on)
    supported = func.coalesce(HR.completed_on, HR.handed_over_on)
    counted_from = case((entered > supported, entered), else_=supported)
    query = (select(RA.commune_code, counted_from, HR.withdrawn_on, func.count())
             .select_from(RA).join(HR, RA.revision_id == HR.id)
             .where(RA.boundary_set_id == ctx.boundary_set.id, known_filter(ctx.known_at), supported.is_not(None),
                    RA.commune_code.is_not(None), counted_from <= ctx.as_of)
             .group_by(RA.commune_code, counted_from, HR.withdrawn_on))
    if all(communes is not None for communes in units.values()):
        query = query.where(RA.commune_code.in_(sorted({c for communes in units.values() for c in communes or ()})))
    per_commune: dict[str, Deltas] = {}
    days = _Days()
    for code, start, end, count in db.session.execute(query):
        start, end = days(start), None if end is None else days(end)
        if end is not None and end <= start:
            continue  # withdrawn before it could count
        changes = per_commune.setdefault(code, {})
        changes[start] = changes.get(start, 0) + count
        if end is not None and end <= ctx.as_of:
            changes[end] = changes.get(end, 0) - count
    return {key: _merged(per_commune, per_commune.keys() if communes is None else communes)
            for key, communes in units.items()}


def _merged(per_commune: Mapping[str, Deltas], communes: Iterable[str]) -> Deltas:
    """The deltas of ``communes`` added day by day, days that cancel out left out."""
    out: Deltas = {}
    for code in communes:
        for day, change in per_commune.get(code, {}).items():
            out[day] = out.get(day, 0) + change
    return {day: change for day, change in out.items() if change}


class _Days:
    """Dates as read back (SQLite gives text), each distinct one parsed once."""

    def __init__(self) -> None:
        self._seen: dict[Any, date] = {}

    def __call__(self, value: date | str) -> date:
        found = self._seen.get(value)
        if found is None:
            found = self._seen[value] = date.fromisoformat(value) if isinstance(value, str) else value
        return found
