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

The per-commune sums are remembered per app (:func:`remember`) under a key
that names the set version, plan revision, ``as_of``, ``known_at``, scope and
a signature of the stored revisions and of the households' change sequence
(review decisions change assignments in place), so repeated reports, map
requests and exports do not run the ``GROUP BY`` again until something changes.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from threading import Lock
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, case, func, or_, select

from tracker.boundaries.models import AdminUnit, BoundarySet
from tracker.boundaries.service import get_set
from tracker.dbtypes import utcnow
from tracker.errors import ApiError
from tracker.extensions import db
from tracker.households.models import FUNDING_SOURCES, Household, HouseholdRevision, RevisionAssignment
from tracker.plans.models import Plan, PlanRevision, PlanTarget
from tracker.plans.service import default_plan, get_plan, revision_in_force
from tracker.progress.pace import WINDOW_DAYS, pace, window_start

HR = HouseholdRevision
RA = RevisionAssignment
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_CACHE_LOCK = Lock()
TYPES = ("new_build", "repair")
COUNTS = ("households", "started", "completed", "handed_over", "in_window", "withdrawn", "needs_review")


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


# A unit's sums are one flat list of ints (fast to add up for thousands of
# communes): per support type (new_build, repair) the plan and each count,
# then the plan budget, the funding per source, and communes at risk.
SLOTS = ("planned",) + COUNTS
SLOT = {name: 2 * i for i, name in enumerate(SLOTS)}
BUDGET = 2 * len(SLOTS)
FUNDS = BUDGET + 1
AT_RISK = FUNDS + len(FUNDING_SOURCES)
WIDTH = AT_RISK + 1
Tally = list[int]


def empty_tally() -> Tally:
    return [0] * WIDTH


def add_into(target: Tally, other: Tally) -> None:
    for i, value in enumerate(other):
        if value:
            target[i] += value


def today_vn() -> date:
    return datetime.now(TZ).date()


def resolve_set(set_name: str | None) -> BoundarySet:
    """The named boundary set, or the default one; ApiError when there is none."""
    from tracker.households.service import default_set

    if set_name is not None:
        boundary_set = get_set(set_name)
        if boundary_set is None:
            raise ApiError(404, f"No boundary set named {set_name!r}.", fields={"set": ["Unknown boundary set."]})
        return boundary_set
    boundary_set = default_set()
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
        boundary_set = resolve_set(set_name)
    assert boundary_set is not None
    if plan is None:
        plan = default_plan(boundary_set)
    elif plan.boundary_set_id != boundary_set.id:
        raise ApiError(422, f"Plan {plan.name!r} is not on boundary set {boundary_set.name!r}.",
                       fields={"plan": ["The plan belongs to another boundary set."]})
    revision = revision_in_force(plan, as_of, known_at) if plan is not None else None
    return ReportContext(boundary_set, plan, revision, as_of, known_at.astimezone(UTC), scope)


def context_from_args(args: dict[str, Any], scope: frozenset[str] | None) -> ReportContext:
    """A report context from parsed query arguments (defaults: today, now)."""
    as_of = args.get("as_of") or today_vn()
    known_at = args.get("known_at") or utcnow()
    return resolve(as_of, known_at, args.get("set_name"), args.get("plan"), scope)


# --- SQL -------------------------------------------------------------------


def known_filter(known_at: datetime) -> Any:
    """Revisions the server held at ``known_at`` (received, not yet superseded)."""
    return and_(HR.received_at <= known_at, or_(HR.superseded_at.is_(None), HR.superseded_at > known_at))


def _reached(column: Any, as_of: date) -> Any:
    return and_(column.is_not(None), column <= as_of)


def household_states(ctx: ReportContext) -> Any:
    """One row per household known at ``known_at``: its commune and its state on ``as_of``.

    Each date expression is computed once here; the outer query only sums.
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
    return query.subquery("states")


def _count(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def commune_sums_query(ctx: ReportContext) -> Any:
    """Per commune, support type and alive (0/1): the counts of COUNTS and the funding sums.

    Rows with ``alive = 0`` (withdrawn by ``as_of``, or not yet in the
    programme) only contribute their ``withdrawn`` count.
    """
    states = household_states(ctx)
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


CACHE_SECONDS = 60.0
CACHE_ENTRIES = 32


def _fingerprint() -> tuple[Any, ...]:
    """Cheap signature of the stored data (three index look-ups).

    Every stored revision moves the last id and receipt time on; a review
    decision (confirm or move a flagged assignment) updates an assignment in
    place, adding no revision, but moves the household's change sequence on,
    which the last element follows. Revisions are never deleted in normal
    work; a deletion by hand shows once the entry expires (``CACHE_SECONDS``).
    """
    # Three separate MAX() sub-queries: each alone is answered from its index.
    last_id, last_received, last_change = db.session.execute(
        select(select(func.max(HR.id)).scalar_subquery(), select(func.max(HR.received_at)).scalar_subquery(),
               select(func.max(Household.change_seq)).scalar_subquery())
    ).one()
    return last_id, last_received, last_change


def report_key(ctx: ReportContext) -> tuple[Any, ...] | None:
    """A key naming exactly the figures ``ctx`` asks for, or None when they must not be remembered.

    It holds the boundary set version, the plan revision, ``as_of``, the
    scope, ``known_at`` ("latest" when at or after the latest receipt: the
    figures are the same) and a signature of the stored data, so any
    stored revision, and any review decision, gives a new key.
    """
    last_id, last_received, last_change = _fingerprint()
    if last_received is not None and last_received > utcnow():
        return None  # revisions dated in the future: "now" moves on its own
    latest = last_received is None or ctx.known_at >= last_received
    return (ctx.boundary_set.id, ctx.boundary_set.version, ctx.boundary_set.checksum,
            ctx.revision.id if ctx.revision else None, ctx.as_of,
            "latest" if latest else ctx.known_at.isoformat(), ctx.scope, last_id, last_received, last_change)


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


def cached_commune_tallies(
    ctx: ReportContext, key: tuple[Any, ...] | None = None
) -> tuple[dict[str | None, Tally], dict[str, int]]:
    """:func:`commune_tallies`, remembered per app while the stored revisions stay the same.

    Reports, the map and the exports ask for the same figures again and
    again; the GROUP BY runs again only when a revision was added or removed,
    the set or plan revision differs, or the entry is older than ``CACHE_SECONDS``.
    """
    return remember("tallies", key if key is not None else report_key(ctx), lambda: commune_tallies(ctx))


def commune_tallies(ctx: ReportContext) -> tuple[dict[str | None, Tally], dict[str, int]]:
    """Per commune code (None: unassigned) the sums of households and plan."""
    tallies: dict[str | None, Tally] = {}
    offsets = [SLOT[name] for name in COUNTS]
    withdrawn = SLOT["withdrawn"]
    for row in db.session.execute(commune_sums_query(ctx)):
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
    if ctx.revision is not None:
        query = select(PlanTarget.commune_code, PlanTarget.new_build, PlanTarget.repair, PlanTarget.budget_vnd).where(
            PlanTarget.revision_id == ctx.revision.id
        )
        if ctx.scope is not None:
            query = query.where(PlanTarget.commune_code.in_(sorted(ctx.scope)))
        for code, new_build, repair, budget in db.session.execute(query):
            tally = tallies.get(code)
            if tally is None:
                tally = tallies[code] = empty_tally()
            tally[0] += new_build
            tally[1] += repair
            tally[BUDGET] += budget
    unassigned = tallies.pop(None, None) or empty_tally()
    summary = {name: unassigned[SLOT[name]] + unassigned[SLOT[name] + 1]
               for name in ("households", "completed", "needs_review")}
    return tallies, summary


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    level: str
    parent_code: str | None


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


# --- rows ------------------------------------------------------------------


_S, _C, _H, _W, _X, _N, _R = (SLOT[n] for n in ("started", "completed", "handed_over", "in_window", "withdrawn",
                                                  "households", "needs_review"))


def build_row(
    code: str, name: str | None, level: str, parent: str | None, tally: Tally, ctx: ReportContext
) -> dict[str, Any]:
    """One row of the report, with exactly the contract's field names."""
    t = tally
    figures = pace(t[0] + t[1], t[_C] + t[_C + 1], t[_W] + t[_W + 1], ctx.as_of, ctx.deadline)
    funds = dict(zip(FUNDING_SOURCES, t[FUNDS:AT_RISK]))
    row = {
        "code": code,
        "name": name,
        "level": level,
        "parent_code": parent,
        "planned": {"new_build": t[0], "repair": t[1], "total": t[0] + t[1]},
        "started": {"new_build": t[_S], "repair": t[_S + 1], "total": t[_S] + t[_S + 1]},
        "completed": {"new_build": t[_C], "repair": t[_C + 1], "total": t[_C] + t[_C + 1]},
        "handed_over": {"new_build": t[_H], "repair": t[_H + 1], "total": t[_H] + t[_H + 1]},
        "withdrawn": t[_X] + t[_X + 1],
        "households": t[_N] + t[_N + 1],
        "needs_review": t[_R] + t[_R + 1],
        "percent_complete": figures.percent_complete,
        "funding": {"planned": t[BUDGET], "recorded": sum(t[FUNDS:AT_RISK]), "by_source": funds},
        "deadline": ctx.deadline,
        "days_left": figures.days_left,
        "remaining": figures.remaining,
        "required_per_day": figures.required_per_day,
        "achieved_per_day": figures.achieved_per_day,
        "projected_finish": figures.projected_finish,
        "at_risk": figures.at_risk,
    }
    if level != "commune":
        row["communes_at_risk"] = tally[AT_RISK]
    return row


def _parents(unit: Unit, units: dict[str, Unit]) -> tuple[str | None, str | None]:
    """(district code, province code) of a commune."""
    parent = units.get(unit.parent_code or "")
    if parent is None:
        return None, None
    if parent.level == "province":
        return None, parent.code
    grand = units.get(parent.parent_code or "")
    return parent.code, grand.code if grand and grand.level == "province" else None


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


def progress_report(ctx: ReportContext, level: str = "commune", key: tuple[Any, ...] | None = None) -> Report:
    """The roll-up at ``level``: one row per unit with a plan or households.

    Remembered like the sums it is built from; the rows of a remembered
    report are shared, so callers read them and never change them.
    """
    key = key if key is not None else report_key(ctx)
    built = remember("reports", None if key is None else key + (level,), lambda: _build_report(ctx, level, key))
    # The figures depend only on the key; the context (and the known_at it echoes) is the caller's.
    return Report(ctx, built.level, built.rows, built.totals, built.unassigned)


def _build_report(ctx: ReportContext, level: str, key: tuple[Any, ...] | None) -> Report:
    units = set_units(ctx.boundary_set)
    if level == "district" and not any(u.level == "district" for u in units.values()):
        raise ApiError(422, f"Boundary set {ctx.boundary_set.name!r} has no districts.",
                       fields={"level": [f"Boundary set {ctx.boundary_set.name!r} has no districts."]})
    cached, unassigned = cached_commune_tallies(ctx, key)
    tallies = {code: list(tally) for code, tally in cached.items()}  # the cached sums stay untouched
    commune_rows: list[dict[str, Any]] = []
    groups: dict[str, Tally] = {}
    totals = empty_tally()
    parents: dict[str | None, tuple[str | None, str | None]] = {}
    for code in sorted(tallies):
        tally = tallies[code]
        unit = units.get(code) or Unit(code, "", "commune", None)
        row = build_row(code, unit.name or None, "commune", unit.parent_code, tally, ctx)
        tally[AT_RISK] = int(row["at_risk"])
        commune_rows.append(row)
        add_into(totals, tally)
        if level != "commune":
            if unit.parent_code not in parents:
                parents[unit.parent_code] = _parents(unit, units)
            district, province = parents[unit.parent_code]
            key = district if level == "district" else province
            if key is not None:
                group = groups.get(key)
                if group is None:
                    group = groups[key] = empty_tally()
                add_into(group, tally)
    if level == "commune":
        rows = commune_rows
    else:
        rows = []
        for code in sorted(groups):
            unit = units.get(code) or Unit(code, "", level, None)
            rows.append(build_row(code, unit.name or None, level, unit.parent_code, groups[code], ctx))
    total_row = build_row("total", None, "total", None, totals, ctx) if tallies else None
    return Report(ctx, level, rows, total_row, unassigned)

