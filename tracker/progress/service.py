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
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select

from tracker.boundaries.models import AdminUnit, BoundarySet
from tracker.boundaries.service import get_set
from tracker.dbtypes import utcnow
from tracker.errors import ApiError
from tracker.extensions import db
from tracker.households.models import FUNDING_SOURCES, HouseholdRevision, RevisionAssignment
from tracker.plans.models import Plan, PlanRevision, PlanTarget
from tracker.plans.service import default_plan, get_plan, revision_in_force
from tracker.progress.pace import WINDOW_DAYS, pace, window_start

HR = HouseholdRevision
RA = RevisionAssignment
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
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

    @property
    def deadline(self) -> date | None:
        return self.revision.deadline if self.revision else None

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


@dataclass
class Tally:
    """Sums for one unit: per support type counts, funding, plan."""

    planned: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TYPES, 0))
    counts: dict[str, dict[str, int]] = field(default_factory=lambda: {c: dict.fromkeys(TYPES, 0) for c in COUNTS})
    budget: int = 0
    funds: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FUNDING_SOURCES, 0))
    communes_at_risk: int = 0

    def add(self, other: Tally) -> None:
        for kind in TYPES:
            self.planned[kind] += other.planned[kind]
            for name in COUNTS:
                self.counts[name][kind] += other.counts[name][kind]
        self.budget += other.budget
        for source in FUNDING_SOURCES:
            self.funds[source] += other.funds[source]

    def total(self, name: str) -> int:
        return sum(self.counts[name].values())


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
    return ReportContext(boundary_set, plan, revision, as_of, known_at.astimezone(timezone.utc), scope)


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


def state_expressions(as_of: date) -> dict[str, Any]:
    """Boolean SQL expressions for a household's state on ``as_of``."""
    entered_on = func.coalesce(HR.surveyed_on, HR.approved_on, HR.started_on, HR.completed_on, HR.handed_over_on)
    supported_on = func.coalesce(HR.completed_on, HR.handed_over_on)
    withdrawn = _reached(HR.withdrawn_on, as_of)
    alive = and_(or_(entered_on.is_(None), entered_on <= as_of), ~withdrawn)
    return {
        "alive": alive,
        "withdrawn": withdrawn,
        "started": and_(alive, _reached(func.coalesce(HR.started_on, supported_on), as_of)),
        "completed": and_(alive, _reached(supported_on, as_of)),
        "handed_over": and_(alive, _reached(HR.handed_over_on, as_of)),
        "in_window": and_(alive, supported_on >= window_start(as_of, WINDOW_DAYS), supported_on <= as_of),
        "needs_review": and_(alive, RA.needs_review.is_(True)),
    }


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def commune_sums_query(ctx: ReportContext) -> Any:
    """``commune_code, support_type, households, …, fund_*`` per commune and type."""
    state = state_expressions(ctx.as_of)
    columns = [
        RA.commune_code.label("commune_code"),
        HR.support_type.label("support_type"),
        _count(state["alive"]).label("households"),
        *(_count(state[name]).label(name) for name in COUNTS if name != "households"),
        *(func.coalesce(func.sum(case((state["alive"], getattr(HR, f"fund_{s}")), else_=0)), 0).label(s)
          for s in FUNDING_SOURCES),
    ]
    query = (
        select(*columns)
        .select_from(HR)
        .join(RA, and_(RA.revision_id == HR.id, RA.boundary_set_id == ctx.boundary_set.id))
        .where(known_filter(ctx.known_at))
        .group_by(RA.commune_code, HR.support_type)
    )
    if ctx.scope is not None:
        query = query.where(RA.commune_code.in_(sorted(ctx.scope)))
    return query


def commune_tallies(ctx: ReportContext) -> tuple[dict[str | None, Tally], dict[str, int]]:
    """Per commune code (None: unassigned) the sums of households and plan."""
    tallies: dict[str | None, Tally] = {}
    for row in db.session.execute(commune_sums_query(ctx)).mappings():
        tally = tallies.setdefault(row["commune_code"], Tally())
        kind = row["support_type"] if row["support_type"] in TYPES else "new_build"
        for name in COUNTS:
            tally.counts[name][kind] += int(row[name])
        for source in FUNDING_SOURCES:
            tally.funds[source] += int(row[source])
    if ctx.revision is not None:
        query = select(PlanTarget.commune_code, PlanTarget.new_build, PlanTarget.repair, PlanTarget.budget_vnd).where(
            PlanTarget.revision_id == ctx.revision.id
        )
        if ctx.scope is not None:
            query = query.where(PlanTarget.commune_code.in_(sorted(ctx.scope)))
        for code, new_build, repair, budget in db.session.execute(query):
            tally = tallies.setdefault(code, Tally())
            tally.planned["new_build"] += new_build
            tally.planned["repair"] += repair
            tally.budget += budget
    unassigned = tallies.pop(None, None)
    summary = {"households": 0, "completed": 0, "needs_review": 0}
    if unassigned is not None:
        summary = {name: unassigned.total(name) for name in summary}
    return tallies, summary  # type: ignore[return-value]


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    level: str
    parent_code: str | None


def set_units(boundary_set: BoundarySet) -> dict[str, Unit]:
    """Every unit of the set by code (communes, districts, provinces), no geometry."""
    rows = db.session.execute(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.level, AdminUnit.parent_code)
        .where(AdminUnit.boundary_set_id == boundary_set.id)
    )
    units: dict[str, Unit] = {}
    for code, name, level, parent in rows:
        if level == "commune" or code not in units:
            units[code] = Unit(code, name, level, parent)
    return units


# --- rows ------------------------------------------------------------------


def _counts(values: dict[str, int]) -> dict[str, int]:
    return {"new_build": values["new_build"], "repair": values["repair"], "total": values["new_build"] + values["repair"]}


def build_row(code: str, name: str | None, level: str, parent: str | None, tally: Tally, ctx: ReportContext) -> dict[str, Any]:
    """One row of the report, with exactly the contract's field names."""
    planned = tally.planned["new_build"] + tally.planned["repair"]
    figures = pace(planned, tally.total("completed"), tally.total("in_window"), ctx.as_of, ctx.deadline)
    recorded = sum(tally.funds.values())
    row = {
        "code": code,
        "name": name,
        "level": level,
        "parent_code": parent,
        "planned": _counts(tally.planned),
        "started": _counts(tally.counts["started"]),
        "completed": _counts(tally.counts["completed"]),
        "handed_over": _counts(tally.counts["handed_over"]),
        "withdrawn": tally.total("withdrawn"),
        "households": tally.total("households"),
        "needs_review": tally.total("needs_review"),
        "percent_complete": figures.percent_complete,
        "funding": {"planned": tally.budget, "recorded": recorded, "by_source": dict(tally.funds)},
        "deadline": ctx.deadline,
        "days_left": figures.days_left,
        "remaining": figures.remaining,
        "required_per_day": figures.required_per_day,
        "achieved_per_day": figures.achieved_per_day,
        "projected_finish": figures.projected_finish,
        "at_risk": figures.at_risk,
    }
    if level != "commune":
        row["communes_at_risk"] = tally.communes_at_risk
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


def progress_report(ctx: ReportContext, level: str = "commune") -> Report:
    """The roll-up at ``level``: one row per unit with a plan or households."""
    units = set_units(ctx.boundary_set)
    if level == "district" and not any(u.level == "district" for u in units.values()):
        raise ApiError(422, f"Boundary set {ctx.boundary_set.name!r} has no districts.",
                       fields={"level": [f"Boundary set {ctx.boundary_set.name!r} has no districts."]})
    tallies, unassigned = commune_tallies(ctx)
    commune_rows: list[dict[str, Any]] = []
    groups: dict[str, Tally] = {}
    totals = Tally()
    for code in sorted(tallies):
        tally = tallies[code]
        unit = units.get(code) or Unit(code, "", "commune", None)
        district, province = _parents(unit, units)
        row = build_row(code, unit.name or None, "commune", unit.parent_code, tally, ctx)
        tally.communes_at_risk = int(row["at_risk"])
        commune_rows.append(row)
        totals.add(tally)
        totals.communes_at_risk += tally.communes_at_risk
        key = district if level == "district" else province if level == "province" else None
        if key is not None:
            group = groups.setdefault(key, Tally())
            group.add(tally)
            group.communes_at_risk += tally.communes_at_risk
    if level == "commune":
        rows = commune_rows
    else:
        rows = []
        for code in sorted(groups):
            unit = units.get(code) or Unit(code, "", level, None)
            rows.append(build_row(code, unit.name or None, level, unit.parent_code, groups[code], ctx))
    total_row = build_row("total", None, "total", None, totals, ctx) if tallies else None
    if total_row is not None:
        total_row["communes_at_risk"] = totals.communes_at_risk
    return Report(ctx, level, rows, total_row, unassigned)

