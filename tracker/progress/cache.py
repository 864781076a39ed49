"""Figures remembered per app, and roll-ups brought up to date commune by commune.

The sums are kept per app as a :class:`~tracker.progress.rollup.Rollup` per
report (set version, plan revision, ``as_of``, ``known_at`` and scope). When
households change, only their communes are counted again
(:func:`current_rollup`), so a national report stays fast while phones sync.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from threading import Lock
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import func, select, union

from tracker.dbtypes import utcnow
from tracker.extensions import db
from tracker.households.assignment import moved_from
from tracker.households.models import Household, HouseholdRevision, RevisionAssignment
from tracker.progress.context import ReportContext
from tracker.progress.counting import commune_matrix, commune_tallies, set_units
from tracker.progress.rollup import Rollup
from tracker.progress.tallies import collector_paused

HR = HouseholdRevision
RA = RevisionAssignment
_CACHE_LOCK = Lock()

# Recounting the communes of more households than this costs about as much as counting them all.
MAX_CHANGED = 5_000


def changed_communes(ctx: ReportContext, since: Mark) -> set[str | None] | None:
    """The communes (under the report's set) of every household changed since ``since``.

    A household changed when its change number moved past the mark (every
    write through the application: a push, an import, a review decision, a
    conflict resolution) or when it has a revision stored after the mark's
    last one. The communes it may have been counted in are those of all its
    revisions' assignments, and those a review moved an assignment away from.
    None when there are too many households to recount one by one.
    """
    changed = union(
        select(Household.id).where(Household.change_seq > (since.last_change or 0)),
        select(HR.household_id).where(HR.id > (since.last_id or 0)),
    ).subquery()
    ids = list(db.session.scalars(select(changed.c[0]).limit(MAX_CHANGED + 1)))
    if len(ids) > MAX_CHANGED:
        return None
    codes: set[str | None] = set()
    for start in range(0, len(ids), 500):
        # Revisions first, then their assignments by primary key (joined, SQLite
        # would walk every assignment of the set instead).
        revisions = select(HR.id).where(HR.household_id.in_(ids[start:start + 500]))
        for code, details in db.session.execute(
            select(RA.commune_code, RA.details)
            .where(RA.revision_id.in_(revisions), RA.boundary_set_id == ctx.boundary_set.id)
        ):
            codes.add(code)
            codes.update(moved_from(details))
    if ctx.scope is not None:
        codes = {c for c in codes if c in ctx.scope}
    return codes


# --- remembering ---------------------------------------------------------------

CACHE_SECONDS = 60.0
CACHE_ENTRIES = 32
# Roll-ups kept per app, weighed by their communes: a few national reports, or
# many small ones (a commune's page asks for a roll-up of that commune alone).
ROLLUP_COMMUNES = 40_000
ROLLUP_ENTRIES = 64
# A roll-up is recounted in full at least this often, whatever was brought up
# to date in between: a row deleted by hand (outside the application) shows then.
FULL_RECOUNT_SECONDS = 600.0


@dataclass(frozen=True)
class Mark:
    """Where the stored data stands: the last revision stored, the last receipt, the last change number."""

    last_id: int | None
    last_received: datetime | None
    last_change: int | None

    def follows(self, earlier: Mark) -> bool:
        """True when the data only grew since ``earlier``: nothing was taken away or rolled back (a restore)."""
        return (
            earlier.last_id is not None and earlier.last_change is not None
            and (self.last_id or 0) >= earlier.last_id and (self.last_change or 0) >= earlier.last_change
        )


def data_mark() -> Mark:
    """The current :class:`Mark` (three index look-ups)."""
    # Three separate MAX() sub-queries: each alone is answered from its index.
    last_id, last_received, last_change = db.session.execute(
        select(select(func.max(HR.id)).scalar_subquery(), select(func.max(HR.received_at)).scalar_subquery(),
               select(func.max(Household.change_seq)).scalar_subquery())
    ).one()
    return Mark(last_id, last_received, last_change)


class ReportKey(NamedTuple):
    """Which figures a report asks for (``identity``) and the data they are counted from (``mark``)."""

    identity: tuple[Any, ...]
    mark: Mark


def report_key(ctx: ReportContext) -> ReportKey | None:
    """A key naming exactly the figures ``ctx`` asks for, or None when they must not be remembered.

    The identity holds the boundary set version, the plan revision,
    ``as_of``, the scope and ``known_at`` ("latest" when at or after the
    latest receipt: the figures are the same); the mark moves with every
    stored revision and review decision.
    """
    mark = data_mark()
    if mark.last_received is not None and mark.last_received > utcnow():
        return None  # revisions dated in the future: "now" moves on its own
    latest = mark.last_received is None or ctx.known_at >= mark.last_received
    identity = (ctx.boundary_set.id, ctx.boundary_set.version, ctx.boundary_set.checksum,
                ctx.revision.id if ctx.revision else None, ctx.as_of,
                "latest" if latest else ctx.known_at.isoformat(), ctx.scope)
    return ReportKey(identity, mark)


def remember(
    name: str, key: tuple[Any, ...] | None, compute: Callable[[], Any], entries: int = CACHE_ENTRIES
) -> Any:
    """``compute()``, remembered per app under ``key`` for ``CACHE_SECONDS`` (never when ``key`` is None)."""
    if key is None:
        return compute()
    now = utcnow()
    cache: OrderedDict[Any, Any] = current_app.extensions.setdefault(f"progress_{name}", OrderedDict())
    with _CACHE_LOCK:
        entry = cache.get(key)
        if entry is not None and (now - entry[0]).total_seconds() < CACHE_SECONDS:
            cache.move_to_end(key)
            return entry[1]
    value = compute()
    with _CACHE_LOCK:
        cache[key] = (now, value)
        while len(cache) > entries:
            cache.popitem(last=False)
    return value


@dataclass(frozen=True)
class _Held:
    mark: Mark
    rollup: Rollup
    counted_at: datetime


def current_rollup(ctx: ReportContext, key: ReportKey | None) -> Rollup:
    """The roll-up for ``ctx``, counted in full once, then brought up to date commune by commune.

    Kept per app (the most recently used, up to ``ROLLUP_COMMUNES`` commune
    rows and ``ROLLUP_ENTRIES`` reports). When the data moved on since
    the roll-up was counted, only the communes of the households changed
    since are counted again; a full count happens when there are too many
    of them, when the data did not move on by changes alone (a restore), or
    ``FULL_RECOUNT_SECONDS`` after the last full count.
    """
    if key is None:
        with collector_paused():
            return Rollup(ctx, set_units(ctx.boundary_set), commune_matrix(ctx))
    cache: OrderedDict[Any, _Held] = current_app.extensions.setdefault("progress_rollups", OrderedDict())
    with _CACHE_LOCK:
        held = cache.get(key.identity)
        if held is not None:
            cache.move_to_end(key.identity)
    now = utcnow()
    fresh = held is not None and (now - held.counted_at).total_seconds() < FULL_RECOUNT_SECONDS
    if fresh and held.mark == key.mark:
        return held.rollup
    rollup, counted_at = None, now
    if fresh and key.mark.follows(held.mark):
        recount = changed_communes(ctx, held.mark)
        if recount is not None:
            rollup, counted_at = held.rollup.updated(recount, commune_tallies(ctx, recount)), held.counted_at
    if rollup is None:
        with collector_paused():
            rollup = Rollup(ctx, set_units(ctx.boundary_set), commune_matrix(ctx))
    with _CACHE_LOCK:
        cache[key.identity] = _Held(key.mark, rollup, counted_at)
        cache.move_to_end(key.identity)
        weight = sum(len(h.rollup.tallies) + 1 for h in cache.values())
        while len(cache) > 1 and (len(cache) > ROLLUP_ENTRIES or weight > ROLLUP_COMMUNES):
            _, dropped = cache.popitem(last=False)
            weight -= len(dropped.rollup.tallies) + 1
    return rollup

