"""The dashboard and the completion map, drawn from the progress roll-up service.

Every figure on these pages comes from ``tracker.progress.service`` (the
same roll-up the API and the exports use); this module only picks the
report's date, boundary set and the caller's scope, sorts rows and draws.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from tracker.boundaries.models import BoundarySet
from tracker.boundaries.service import boundary_sets, unit_counts
from tracker.consistent_reads import consistent_reads
from tracker.dbtypes import utcnow
from tracker.errors import ApiError
from tracker.exports.households import households_file
from tracker.exports.service import progress_file
from tracker.http import attachment
from tracker.jobs import queue as jobs_queue
from tracker.jobs.kinds import export_args, export_rows
from tracker.plans.history import programme_results
from tracker.plans.service import revision_in_force, revision_totals
from tracker.progress import service as progress_service
from tracker.progress.finish import with_finish
from tracker.web import formatting, queries
from tracker.web.auth import current_principal, login_required
from tracker.web.blueprint import (
    CODE,
    BadQuery,
    bp,
    chosen_choice,
    chosen_date,
    chosen_set,
    links_to,
    loaded_set,
    locale_code,
    page_number,
    scope,
    unit_title,
)
from tracker.web.charts import ChartLabels, burn_up_svg
from tracker.web.standing import Standing, standings
from tracker.web.todo import to_do

MAX_MAP_POINTS = 20_000
MAX_SAMPLES = 26
OWN_COMMUNES = 12
# Rows of the dashboard's table per page: every province's communes on one; the country's 11,163 on twelve
# (all on one were 4 MB of HTML).
TABLE_ROWS = 1000
SORT_KEYS = ("risk", "name", "planned", "completed", "percent", "days_left", "projected")


def today() -> date:
    return progress_service.today_vn()


def report(boundary_set: BoundarySet, as_of: date, level: str, area: frozenset[str] | None) -> Any:
    """The roll-up at ``level`` for the caller's area (``?plan=`` when named); BadQuery for a bad plan or level."""
    service = progress_service
    try:
        ctx = service.resolve(as_of, utcnow(), boundary_set.name, request.args.get("plan"), area)
        return service.progress_report(ctx, level)
    except ApiError as error:
        raise BadQuery(error.status, error.message) from error


def area_report() -> tuple[BoundarySet, date, frozenset[str] | None, Any]:
    """The loaded map, the chosen date, the caller's area, and the commune roll-up of that area."""
    boundary_set, as_of, area = loaded_set(), chosen_date(), scope()
    return boundary_set, as_of, area, report(boundary_set, as_of, "commune", area)


def readings(found: Any, rows: list[dict[str, Any]]) -> dict[tuple[str, str], Standing]:
    """Each row's standing (finished on which day, overdue by how much, at risk, no plan)."""
    finished = with_finish(found.ctx, rows)
    return dict(zip([(r["level"], r["code"]) for r in finished], standings(finished, locale_code())))


def commune_figures(boundary_set: BoundarySet, code: str, as_of: date) -> tuple[dict[str, Any] | None, Standing | None]:
    """One commune's row as of a date and its standing (the caller may see it: checked before)."""
    found = report(boundary_set, as_of, "commune", frozenset({code}))
    row = next((row for row in found.rows if row["code"] == code), None)
    if row is None:
        return None, None
    return row, readings(found, [row])[("commune", code)]


def sort_rows(rows: list[dict[str, Any]], key: str, descending: bool) -> list[dict[str, Any]]:
    """Sort report rows; the default puts the communes at risk first, least complete first."""
    def pct(row: dict[str, Any]) -> float:
        return row["percent_complete"] if row["percent_complete"] is not None else 1e9

    far = date.max
    keys = {
        "risk": lambda r: (not r["at_risk"], pct(r), r.get("name") or ""),
        "name": lambda r: formatting_key(r.get("name") or r["code"]),
        "planned": lambda r: r["planned"]["total"],
        "completed": lambda r: r["completed"]["total"],
        "percent": pct,
        "days_left": lambda r: r["days_left"] if r["days_left"] is not None else 10**9,
        "projected": lambda r: r["projected_finish"] or far,
    }
    return sorted(rows, key=keys.get(key, keys["risk"]), reverse=descending)


def formatting_key(name: str) -> str:
    from tracker.text import fold

    return fold(name)


@dataclass
class Sample:
    day: date
    completed: int
    planned: int


def burn_up(boundary_set: BoundarySet, as_of: date, area: frozenset[str] | None, main: Any) -> str:
    """Completions against the plan from the plan's start to its deadline (or ``as_of``)."""
    ctx = main.ctx
    if ctx.plan is None or not ctx.plan.revisions:
        return ""
    start = min(r.effective_date for r in ctx.plan.revisions)
    deadline = ctx.deadline
    end = max(as_of, deadline or as_of)
    if end <= start:
        return ""
    last = min(as_of, end)
    span = (last - start).days
    step = max(7, -(-span // MAX_SAMPLES))
    days = sorted({start + timedelta(days=d) for d in range(0, span + 1, step)} | {last})
    completed = list(zip(days, progress_service.completed_by_day(ctx, days)))
    in_force = {revision.effective_date: revision_in_force(ctx.plan, revision.effective_date, ctx.known_at)
                for revision in ctx.plan.revisions if revision.effective_date <= end}
    totals = revision_totals(sorted({r.id for r in in_force.values() if r is not None}), area)
    plan_steps = {day: totals[r.id].new_build + totals[r.id].repair if r is not None else 0
                  for day, r in in_force.items()}
    loc = locale_code()
    labels = ChartLabels(title=_("Completed houses against the plan"), completed=_("Completed"), plan=_("Plan"),
                         deadline=_("Deadline"), as_of=_("As of"))
    return burn_up_svg(completed, sorted(plan_steps.items()), start=start, end=end, deadline=deadline, as_of=as_of,
                       labels=labels, number=lambda v: formatting.number(v, loc), day=formatting.short_day)


def _has_districts(boundary_set: BoundarySet) -> bool:
    return unit_counts(boundary_set.id).get("district", 0) > 0


@bp.route("/")
@consistent_reads
def index() -> Any:
    if current_principal() is None:
        return render_template("welcome.html")
    return dashboard()


@login_required()
def dashboard() -> Any:
    boundary_set = chosen_set()
    as_of = chosen_date()
    if boundary_set is None:
        return render_template("dashboard.html", boundary_set=None, sets=[], as_of=as_of, main=None, rows=[],
                               chart="", level="commune", sort="risk", desc=False, has_districts=False, today=today())
    area = scope()
    districts = _has_districts(boundary_set)
    own = area is not None and len(area) <= OWN_COMMUNES  # an officer's home: their communes first
    level = chosen_choice("level", ("district", "commune") if districts else ("commune",),
                          "district" if districts and not own else "commune")
    district = chosen_district(boundary_set)
    if district is not None:
        level = "commune"
    main = report(boundary_set, as_of, "commune", area)
    table = report(boundary_set, as_of, "district", area) if level == "district" else main
    sort = request.args.get("sort", "risk")
    sort = sort if sort in SORT_KEYS else "risk"
    desc = request.args.get("dir") == "desc"
    rows = [r for r in table.rows if district is None or r["parent_code"] == district.code]
    rows, page, pages = page_of(sort_rows(rows, sort, desc), TABLE_ROWS)
    shown = rows + ([main.totals] if main.totals else [])
    return render_template(
        "dashboard.html", boundary_set=boundary_set, sets=boundary_sets(), as_of=as_of, main=main,
        rows=rows, page=page, pages=pages, chart=burn_up(boundary_set, as_of, area, main), level=level, sort=sort,
        desc=desc,
        has_districts=districts, today=today(), exports=export_links(boundary_set, as_of, level),
        district=district, readings=readings(main, shown), units=queries.unit_index(boundary_set),
        province=queries.province(boundary_set), heading=own_heading(boundary_set, area) if own else "",
        todo=to_do(boundary_set, area, as_of, main.ctx.deadline, request.args.get("q", "")[:100]) if own else None,
        q=request.args.get("q", "")[:100], history=programme_results(),
        commune_link=links_to("web.commune", code=CODE, set=boundary_set.name, as_of=as_of.isoformat()),
        district_link=links_to("web.index", set=boundary_set.name, as_of=as_of.isoformat(), level="commune",
                               district=CODE),
    )


def page_of(rows: list[dict[str, Any]], size: int) -> tuple[list[dict[str, Any]], int, int]:
    """The rows of page ``?page=N`` (past the end: the last page), that page's number and how many there are."""
    pages = max(-(-len(rows) // size), 1)
    page = min(page_number(), pages)
    return rows[(page - 1) * size:page * size], page, pages


def own_heading(boundary_set: BoundarySet, area: frozenset[str] | None) -> str:
    """The page title of an officer's home: their communes by type and name ("Xã Chiềng Mung")."""
    units = queries.unit_index(boundary_set)
    return ", ".join(unit_title(units[c].unit_type, units[c].name) for c in sorted(area or ()) if c in units)


def chosen_district(boundary_set: BoundarySet) -> Any:
    """``?district=CODE``: the district whose communes the table lists; BadQuery when the map has no such district."""
    code = request.args.get("district")
    if code is None:
        return None
    found = queries.unit(boundary_set, code, "district")
    if found is None:
        raise BadQuery(404, _("There is no district “%(code)s” on the %(set)s map.", code=code[:20],
                              set=boundary_set.name))
    return found


def export_links(boundary_set: BoundarySet, as_of: date, level: str) -> list[tuple[str, str]]:
    """The report files of this page, and the households list for every role that may read households."""
    common = {"set": boundary_set.name, "as_of": as_of.isoformat(), "lang": locale_code()}
    links = [(_("Report") + f" {fmt.upper()}", url_for("web.export", fmt=fmt, level=level, **common))
             for fmt in ("xlsx", "csv")]
    links += [(_("Households") + f" {fmt.upper()}", url_for("web.export_households", fmt=fmt, **common))
              for fmt in ("xlsx", "csv")]
    return links


def _file_args(boundary_set: BoundarySet) -> dict[str, Any]:
    lang = chosen_choice("lang", ("vi", "en"), locale_code())
    return {"as_of": chosen_date(), "set_name": boundary_set.name, "plan": request.args.get("plan"), "lang": lang}


@bp.route("/export/progress.<fmt>")
@consistent_reads
@login_required()
def export(fmt: str) -> Any:
    """The progress report file of the exports service, for a signed-in browser (the API wants a token)."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    boundary_set = loaded_set()
    args = _file_args(boundary_set)
    levels = ("province", "district", "commune") if _has_districts(boundary_set) else ("province", "commune")
    args["level"] = chosen_choice("level", levels, "commune")
    try:
        return attachment(*progress_file(args, current_principal().commune_scope(), fmt))
    except ApiError as error:
        raise BadQuery(error.status, error.message) from error


@bp.route("/export/households.<fmt>")
@login_required()
def export_households(fmt: str) -> Any:
    """The households list of the caller's area (national IDs masked for viewers), as the API gives it."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    args = _file_args(loaded_set())
    who = current_principal()
    try:
        if export_rows(args, who.commune_scope()) > current_app.config["EXPORT_INLINE_ROWS"]:
            job = jobs_queue.start("export.households", export_args(args, who.commune_scope(), who.role == "viewer",
                                                                    fmt), owner_id=who.user_id)
            return redirect(url_for("web.job_page", job_id=job.id))
        return attachment(*households_file(args, who.commune_scope(), who.role == "viewer", fmt))
    except ApiError as error:
        raise BadQuery(error.status, error.message) from error
