"""Progress roll-ups, computed by the database.

One ``GROUP BY`` over the household revisions known at ``known_at`` (joined
to their commune under the chosen boundary set) gives per-commune counts;
plan targets come from the revision in force on ``as_of``. Only those
per-commune sums (a few thousand rows at most) are combined in Python into
district and province rows, and :mod:`tracker.progress.pace` adds the deadline
figures.

Counting rules (all by the field dates of each household, up to ``as_of``):

* a household *enters* on its first stage date (one with no date at all is
  counted from the start); it is *withdrawn* from its withdrawal date on, and
  then counts only under ``withdrawn``;
* *started*: reached "started" or a later stage; *completed* (= supported):
  completed or handed over; *handed_over*: handed over;
* funding recorded: the funding lines of the households counted;
* *needs_review*: counted households whose assignment is flagged for review
  (they are counted in the commune the assignment chose).

The sums are kept per app as a :class:`~tracker.progress.rollup.Rollup` per
report (set version, plan revision, ``as_of``, ``known_at`` and scope). When
households change, only their communes are counted again
(:func:`current_rollup`), so a national report stays fast while phones sync.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from threading import Lock
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import and_, case, func, or_, select, union

from sync.vocabulary import FUNDING_SOURCES
from sync.vocabulary import today as today_vn
from tracker.boundaries.models import AdminUnit, BoundarySet
from tracker.boundaries.service import get_set
from tracker.dbtypes import utcnow
from tracker.errors import ApiError
from tracker.extensions import db
from tracker.households import ledger
from tracker.households.assignment import moved_from
from tracker.households.models import Household, HouseholdRevision, RevisionAssignment
from tracker.plans.models import Plan, PlanRevision, PlanTarget
from tracker.plans.service import default_plan, get_plan, revision_in_force
from tracker.progress import kept
from tracker.progress.pace import WINDOW_DAYS, window_start
from tracker.progress.rollup import Rollup, parents
from tracker.progress.tallies import BUDGET, COUNTS, FUNDS, SLOT, Tally, Unit, empty_tally, unassigned_summary

HR = HouseholdRevision
RA = RevisionAssignment
_CACHE_LOCK = Lock()


@dataclass
class ReportContext:
    """What a report is about, resolved from the query arguments."""

    boundary_set: BoundarySet
    plan: Plan | None
    revision: PlanRevision | None
    as_of: date
    known_at: datetime
    scope: frozenset[str] | None = None

    deadline: date | None = None

    def __post_init__(self) -> None:
        self.deadline = self.revision.deadline if self.revision else None

    def plan_ref(self) -> dict[str, Any] | None:
        if self.plan is None:
            return None
        rev = self.revision
        return {
            "name": self.plan.name,
            "revision": rev.number if rev else None,
            "effective_date": rev.effective_date if rev else None,
            "deadline": rev.deadline if rev else None,
        }


def resolve_set(set_name: str | None, as_of: date | None = None) -> BoundarySet:
    """The named boundary set, or the map in force on ``as_of`` (default today); ApiError when there is none."""
    from tracker.households.service import set_in_force

    if set_name is not None:
        boundary_set = get_set(set_name)
        if boundary_set is None:
            raise ApiError(404, f"No boundary set named {set_name!r}.", fields={"set": ["Unknown boundary set."]})
        return boundary_set
    boundary_set = set_in_force(as_of or today_vn())
    if boundary_set is None:
        raise ApiError(404, "No boundary set has been loaded yet.")
    return boundary_set


def resolve(
    as_of: date,
    known_at: datetime,
    set_name: str | None = None,
    plan_name: str | None = None,
    scope: frozenset[str] | None = None,
) -> ReportContext:
    """The set, plan and plan revision a report uses; ApiError when unknown."""
    plan = None
    if plan_name is not None:
        plan = get_plan(plan_name)
        if plan is None:
            raise ApiError(404, f"No plan named {plan_name!r}.", fields={"plan": ["Unknown plan."]})
    if set_name is None and plan is not None:
        boundary_set = db.session.get(BoundarySet, plan.boundary_set_id)
    else:
        boundary_set = resolve_set(set_name, as_of)
    assert boundary_set is not None
    if plan is None:
        plan = default_plan(boundary_set)
    elif plan.boundary_set_id != boundary_set.id:
        raise ApiError(422, f"Plan {plan.name!r} is not on boundary set {boundary_set.name!r}.",
                       fields={"plan": ["The plan belongs to another boundary set."]})
    revision = revision_in_force(plan, as_of, known_at) if plan is not None else None
    return ReportContext(boundary_set, plan, revision, as_of, known_at.astimezone(UTC), scope)


def context_from_args(args: dict[str, Any], scope: frozenset[str] | None) -> ReportContext:
    """A report context from parsed query arguments (defaults: today, now).

    With an explicit ``known_at`` the writes stamped by then are waited for
    first (``ledger.settle``), so the report can be taken again later with
    the same figures.
    """
    as_of = args.get("as_of") or today_vn()
    known_at = args.get("known_at")
    if known_at is not None:
        ledger.settle()
    return resolve(as_of, known_at or utcnow(), args.get("set_name"), args.get("plan"), scope)


# --- SQL -------------------------------------------------------------------


def known_filter(known_at: datetime) -> Any:
    """Revisions the server held at ``known_at`` (received, not yet superseded)."""
    return and_(HR.received_at <= known_at, or_(HR.superseded_at.is_(None), HR.superseded_at > known_at))


def _reached(column: Any, as_of: date) -> Any:
    return and_(column.is_not(None), column <= as_of)


def household_states(ctx: ReportContext, communes: Collection[str | None] | None = None) -> Any:
    """One row per household known at ``known_at``: its commune and its state on ``as_of``.

    Each date expression is computed once here; the outer query only sums.
    ``communes`` limits the rows to those communes (``None`` in it: the
    households no commune took).
    """
    as_of = ctx.as_of
    entered_on = func.coalesce(HR.surveyed_on, HR.approved_on, HR.started_on, HR.completed_on, HR.handed_over_on)
    withdrawn = _reached(HR.withdrawn_on, as_of)
    alive = and_(or_(entered_on.is_(None), entered_on <= as_of), ~withdrawn)
    query = (
        select(
            RA.commune_code.label("commune_code"),
            HR.support_type.label("support_type"),
            case((alive, 1), else_=0).label("alive"),
            case((withdrawn, 1), else_=0).label("withdrawn"),
            func.coalesce(HR.started_on, HR.completed_on, HR.handed_over_on).label("started_on"),
            func.coalesce(HR.completed_on, HR.handed_over_on).label("supported_on"),
            HR.handed_over_on.label("handed_over_on"),
            case((RA.needs_review.is_(True), 1), else_=0).label("needs_review"),
            *(getattr(HR, f"fund_{s}").label(f"fund_{s}") for s in FUNDING_SOURCES),
        )
        .select_from(RA)
        .join(HR, RA.revision_id == HR.id)
        .where(RA.boundary_set_id == ctx.boundary_set.id, known_filter(ctx.known_at))
    )
    if ctx.scope is not None:
        query = query.where(RA.commune_code.in_(sorted(ctx.scope)))
    if communes is not None:
        codes = sorted(c for c in communes if c is not None)
        query = query.where(or_(RA.commune_code.in_(codes), RA.commune_code.is_(None)) if None in communes
                            else RA.commune_code.in_(codes))
    return query.subquery("states")


def _count(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def commune_sums_query(ctx: ReportContext, communes: Collection[str | None] | None = None) -> Any:
    """Per commune, support type and alive (0/1): the counts of COUNTS and the funding sums.

    Rows with ``alive = 0`` (withdrawn by ``as_of``, or not yet in the
    programme) only contribute their ``withdrawn`` count.
    """
    states = household_states(ctx, communes)
    as_of, first_day = ctx.as_of, window_start(ctx.as_of, WINDOW_DAYS)
    c = states.c
    return (
        select(
            c.commune_code, c.support_type, c.alive,
            func.count().label("households"),
            _count(c.started_on <= as_of).label("started"),
            _count(c.supported_on <= as_of).label("completed"),
            _count(c.handed_over_on <= as_of).label("handed_over"),
            _count(and_(c.supported_on >= first_day, c.supported_on <= as_of)).label("in_window"),
            func.sum(c.withdrawn).label("withdrawn"),
            func.sum(c.needs_review).label("needs_review"),
            *(func.sum(getattr(c, f"fund_{s}")).label(s) for s in FUNDING_SOURCES),
        )
        .group_by(c.commune_code, c.support_type, c.alive)
    )


def commune_tallies(ctx: ReportContext, communes: Collection[str | None] | None = None) -> dict[str | None, Tally]:
    """Per commune code (None: unassigned) the sums of households and plan; only ``communes`` when given.

    The household sums come from the tallies the ledger keeps when they
    cover the report (:mod:`tracker.progress.kept`), else from the revisions.
    """
    tallies = kept.sums(ctx, communes) if kept.covers(ctx) else counted_tallies(ctx, communes)
    if ctx.revision is not None:
        _add_plan(ctx, communes, tallies)
    return tallies


def counted_tallies(ctx: ReportContext, communes: Collection[str | None] | None = None) -> dict[str | None, Tally]:
    """Per commune code (None: unassigned) the sums of households, counted from the revisions."""
    tallies: dict[str | None, Tally] = {}
    offsets = [SLOT[name] for name in COUNTS]
    withdrawn = SLOT["withdrawn"]
    for row in db.session.execute(commune_sums_query(ctx, communes)):
        code, kind, alive = row[0], 1 if row[1] == "repair" else 0, row[2]
        tally = tallies.get(code)
        if tally is None:
            tally = tallies[code] = empty_tally()
        values = row[3:3 + len(COUNTS)]
        if not alive:
            tally[withdrawn + kind] += int(values[COUNTS.index("withdrawn")] or 0)
            continue
        for offset, value in zip(offsets, values):
            tally[offset + kind] += int(value or 0)
        for i, value in enumerate(row[3 + len(COUNTS):]):
            tally[FUNDS + i] += int(value or 0)
    return tallies


def _add_plan(ctx: ReportContext, communes: Collection[str | None] | None, tallies: dict[str | None, Tally]) -> None:
    if ctx.revision is not None:
        query = select(PlanTarget.commune_code, PlanTarget.new_build, PlanTarget.repair, PlanTarget.budget_vnd).where(
            PlanTarget.revision_id == ctx.revision.id
        )
        if ctx.scope is not None:
            query = query.where(PlanTarget.commune_code.in_(sorted(ctx.scope)))
        if communes is not None:
            query = query.where(PlanTarget.commune_code.in_(sorted(c for c in communes if c is not None)))
        for code, new_build, repair, budget in db.session.execute(query):
            tally = tallies.get(code)
            if tally is None:
                tally = tallies[code] = empty_tally()
            tally[0] += new_build
            tally[1] += repair
            tally[BUDGET] += budget


def completed_by_day(ctx: ReportContext, days: Sequence[date]) -> list[int]:
    """Houses completed on each of ``days``: the report's ``totals.completed`` for each date, in one query.

    For the burn-up chart. A household counts from the day it is both in the
    programme and completed (the later of its entry and completion dates)
    until the day it is withdrawn, the rules of :func:`household_states`.
    """
    entered = func.coalesce(HR.surveyed_on, HR.approved_on, HR.started_on, HR.completed_on, HR.handed_over_on)
    supported = func.coalesce(HR.completed_on, HR.handed_over_on)
    counted_from = case((entered > supported, entered), else_=supported)
    query = (
        select(counted_from, HR.withdrawn_on, func.count())
        .select_from(RA).join(HR, RA.revision_id == HR.id)
        .where(RA.boundary_set_id == ctx.boundary_set.id, known_filter(ctx.known_at), supported.is_not(None))
        .group_by(counted_from, HR.withdrawn_on)
    )
    if ctx.scope is not None:
        query = query.where(RA.commune_code.in_(sorted(ctx.scope)))
    spans = [(_day(start), _day(end), n) for start, end, n in db.session.execute(query)]
    return [sum(n for start, end, n in spans if start <= day and (end is None or end > day)) for day in days]


def finish_days(ctx: ReportContext, rows: Iterable[dict[str, Any]]) -> dict[tuple[str, str], date]:
    """The day each finished unit among ``rows`` reached its plan, by ``(level, code)``.

    A finished unit (planned, nothing left) shows the day it finished rather
    than a projection: the first day its supported households, counted by
    the report's rules, reached the plan in force. ``rows`` may mix levels;
    the ``total`` row stands for every commune.
    """
    wanted = [r for r in rows if r["planned"]["total"] > 0 and r["remaining"] == 0]
    if not wanted:
        return {}
    states = household_states(ctx).c
    per_commune: dict[str, dict[date, int]] = {}
    for code, day, count in db.session.execute(
        select(states.commune_code, states.supported_on, func.count())
        .where(states.alive == 1, states.commune_code.is_not(None), states.supported_on <= ctx.as_of)
        .group_by(states.commune_code, states.supported_on)
    ):
        days = per_commune.setdefault(code, {})
        days[_day(day)] = days.get(_day(day), 0) + count  # type: ignore[index]
    units = set_units(ctx.boundary_set)
    found: dict[tuple[str, str], date] = {}
    for row in wanted:
        level, code = row["level"], row["code"]
        by_day: dict[date, int] = {}
        for commune, days in per_commune.items():
            if _within(commune, level, code, units):
                for day, count in days.items():
                    by_day[day] = by_day.get(day, 0) + count
        reached = 0
        for day in sorted(by_day):
            reached += by_day[day]
            if reached >= row["planned"]["total"]:
                found[(level, code)] = day
                break
    return found


def _within(commune: str, level: str, code: str, units: dict[str, Unit]) -> bool:
    if level == "total":
        return True
    if level == "commune":
        return commune == code
    unit = units.get(commune)
    if unit is None:
        return False
    district, province = parents(unit, units)
    return (district if level == "district" else province) == code


def _day(value: date | str | None) -> date | None:
    """A date column read back (SQLite gives a computed date as text)."""
    return date.fromisoformat(value) if isinstance(value, str) else value


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


def set_units(boundary_set: BoundarySet) -> dict[str, Unit]:
    """Every unit of the set by code (communes, districts, provinces), no geometry; cached per set version."""
    key = (boundary_set.id, boundary_set.version, boundary_set.checksum)
    cache = current_app.extensions.setdefault("progress_units", {})
    if key in cache:
        return cache[key]
    rows = db.session.execute(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.level, AdminUnit.parent_code)
        .where(AdminUnit.boundary_set_id == boundary_set.id)
    )
    units: dict[str, Unit] = {}
    for code, name, level, parent in rows:
        if level == "commune" or code not in units:
            units[code] = Unit(code, name, level, parent)
    with _CACHE_LOCK:
        cache.clear()  # one set version at a time is plenty
        cache[key] = units
    return units


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
        return Rollup(ctx, set_units(ctx.boundary_set), commune_tallies(ctx))
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
        rollup = Rollup(ctx, set_units(ctx.boundary_set), commune_tallies(ctx))
    with _CACHE_LOCK:
        cache[key.identity] = _Held(key.mark, rollup, counted_at)
        cache.move_to_end(key.identity)
        weight = sum(len(h.rollup.tallies) + 1 for h in cache.values())
        while len(cache) > 1 and (len(cache) > ROLLUP_ENTRIES or weight > ROLLUP_COMMUNES):
            _, dropped = cache.popitem(last=False)
            weight -= len(dropped.rollup.tallies) + 1
    return rollup


# --- reports -------------------------------------------------------------------


@dataclass
class Report:
    ctx: ReportContext
    level: str
    rows: list[dict[str, Any]]
    totals: dict[str, Any] | None
    unassigned: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "as_of": self.ctx.as_of,
            "known_at": self.ctx.known_at,
            "boundary_set": self.ctx.boundary_set.name,
            "plan": self.ctx.plan_ref(),
            "rows": self.rows,
            "totals": self.totals,
            "unassigned": self.unassigned,
        }


def progress_report(ctx: ReportContext, level: str = "commune", key: ReportKey | None = None) -> Report:
    """The roll-up at ``level``: one row per unit with a plan or households.

    The rows are shared with later reports of the same figures: callers
    read them and never change them.
    """
    if level == "district" and not any(u.level == "district" for u in set_units(ctx.boundary_set).values()):
        raise ApiError(422, f"Boundary set {ctx.boundary_set.name!r} has no districts.",
                       fields={"level": [f"Boundary set {ctx.boundary_set.name!r} has no districts."]})
    rollup = current_rollup(ctx, key if key is not None else report_key(ctx))
    return Report(ctx, level, rollup.level_rows(level), rollup.total_row(), unassigned_summary(rollup.unassigned))
