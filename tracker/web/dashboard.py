"""The dashboard and the completion map, drawn from the progress roll-up service.

Every figure on these pages comes from ``tracker.progress.service`` (the
same roll-up the API and the exports use); this module only picks the
report's date, boundary set and the caller's scope, sorts rows and draws.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _

from tracker.boundaries.models import BoundarySet
from tracker.boundaries.service import boundary_sets, unit_counts
from tracker.dbtypes import utcnow
from tracker.errors import ApiError
from tracker.plans.service import revision_in_force, revision_totals
from schemas.progress import MIN_DATE
from tracker.progress import service as progress_service
from tracker.web import formatting, queries
from tracker.web.auth import current_principal, login_required
from tracker.web.blueprint import bp, chosen_set, locale_code, scope
from tracker.web.charts import ChartLabels, burn_up_svg
from tracker.web.maps import base_map
from tracker.web.svgmap import NO_PLAN, PERCENT_BINS, STATUS_CLASSES, STATUS_COLOURS, Point, percent_class, render_map

MAX_MAP_POINTS = 20_000
MAX_SAMPLES = 26
SORT_KEYS = ("risk", "name", "planned", "completed", "percent", "days_left", "projected")


def today() -> date:
    return progress_service.today_vn()


def chosen_date() -> tuple[date, str]:
    """``?as_of=YYYY-MM-DD`` or today; a bad date falls back to today with a message."""
    raw = request.args.get("as_of", "").strip()
    if not raw:
        return today(), ""
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        return today(), _("“%(value)s” is not a date; showing today.", value=raw[:20])
    if value > today():
        return today(), _("The date is in the future; showing today.")
    if value < MIN_DATE:
        return today(), _("“%(value)s” is not a date; showing today.", value=raw[:20])
    return value, ""


def report(boundary_set: BoundarySet, as_of: date, level: str, area: frozenset[str] | None) -> Any | None:
    """The roll-up at ``level`` for the caller's area, or None when nothing can be reported."""
    service = progress_service
    try:
        ctx = service.resolve(as_of, utcnow(), boundary_set.name, None, area)
        return service.progress_report(ctx, level)
    except ApiError:
        return None


def commune_figures(boundary_set: BoundarySet, code: str, as_of: date) -> dict[str, Any] | None:
    """One commune's row as of a date (the caller may see it: checked before)."""
    found = report(boundary_set, as_of, "commune", frozenset({code}))
    if found is None:
        return None
    return next((row for row in found.rows if row["code"] == code), None)


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
def index() -> Any:
    if current_principal() is None:
        return render_template("welcome.html")
    return dashboard()


@login_required()
def dashboard() -> Any:
    boundary_set = chosen_set()
    as_of, date_note = chosen_date()
    if boundary_set is None:
        return render_template("dashboard.html", boundary_set=None, sets=[], as_of=as_of, note=date_note,
                               main=None, rows=[], chart="", level="commune", sort="risk", desc=False,
                               has_districts=False, today=today())
    area = scope()
    districts = _has_districts(boundary_set)
    level = request.args.get("level", "district" if districts else "commune")
    if level not in ("commune", "district") or (level == "district" and not districts):
        level = "commune"
    main = report(boundary_set, as_of, "commune", area)
    table = main
    if main is not None and level == "district":
        table = report(boundary_set, as_of, "district", area)
    sort = request.args.get("sort", "risk")
    sort = sort if sort in SORT_KEYS else "risk"
    desc = request.args.get("dir") == "desc"
    rows = sort_rows(table.rows, sort, desc) if table is not None else []
    chart = burn_up(boundary_set, as_of, area, main) if main is not None else ""
    return render_template(
        "dashboard.html", boundary_set=boundary_set, sets=boundary_sets(), as_of=as_of, note=date_note, main=main,
        rows=rows, chart=chart, level=level, sort=sort, desc=desc, has_districts=districts, today=today(),
        exports=export_links(boundary_set, as_of, level),
    )


def export_links(boundary_set: BoundarySet, as_of: date, level: str) -> list[tuple[str, str]]:
    return [(fmt.upper(), url_for("web.export", fmt=fmt, set=boundary_set.name, as_of=as_of.isoformat(),
                                  level=level, lang=locale_code()))
            for fmt in ("xlsx", "csv")]


@bp.route("/export/progress.<fmt>")
@login_required()
def export(fmt: str) -> Any:
    """The progress report file of the exports service, for a signed-in browser (the API wants a token)."""
    from tracker.exports.service import progress_file
    from tracker.http import attachment

    if fmt not in ("xlsx", "csv"):
        abort(404)
    boundary_set = chosen_set()
    if boundary_set is None:
        abort(404)
    as_of, _note = chosen_date()
    level = request.args.get("level", "commune")
    if level not in ("province", "district", "commune") or (level == "district" and not _has_districts(boundary_set)):
        level = "commune"
    lang = request.args.get("lang") if request.args.get("lang") in ("vi", "en") else locale_code()
    args = {"as_of": as_of, "set_name": boundary_set.name, "level": level, "lang": lang}
    return attachment(*progress_file(args, current_principal().commune_scope(), fmt))


def legend() -> list[tuple[str, str]]:
    loc = locale_code()
    items = []
    for name, low, high, _colour in PERCENT_BINS:
        if high == float("inf"):
            label = _("%(low)s or more", low=formatting.percent(low, loc))
        else:
            label = _("%(low)s to under %(high)s", low=formatting.number(low, loc) + " %",
                      high=formatting.number(high, loc) + " %")
        items.append((name, label))
    items.append((NO_PLAN[0], _("No plan")))
    return items


def status_legend() -> list[tuple[str, str]]:
    return [("s0", _("Surveyed or approved")), ("s1", _("Started")), ("s2", _("Completed or handed over")),
            ("s3", _("Withdrawn"))]


@bp.route("/map")
@login_required()
def completion_map() -> Any:
    boundary_set = chosen_set()
    as_of, date_note = chosen_date()
    if boundary_set is None:
        abort(404)
    area = scope()
    main = report(boundary_set, as_of, "commune", area)
    rows = {row["code"]: row for row in main.rows} if main is not None else {}
    base = base_map(boundary_set)
    loc = locale_code()
    visible = {s.code for s in base.shapes if queries.commune_visible(area, s.code)}
    classes: dict[str, str] = {}
    titles: dict[str, str] = {}
    links: dict[str, str] = {}
    common = {"set": boundary_set.name}
    if request.args.get("as_of"):
        common["as_of"] = as_of.isoformat()
    show_points = request.args.get("points", "1") != "0"
    if not show_points:
        common["points"] = "0"
    for shape in base.shapes:
        row = rows.get(shape.code)
        pct = row["percent_complete"] if row else None
        if shape.code not in visible:
            classes[shape.code] = "out"
            continue
        classes[shape.code] = percent_class(pct)
        titles[shape.code] = f"{shape.name}: {formatting.percent(pct, loc)}"
        links[shape.code] = url_for("web.completion_map", commune=shape.code, **common) + "#info"
    selected = request.args.get("commune")
    if selected not in visible:
        selected = None
    points: list[Point] = []
    too_many = False
    if show_points:
        found = queries.map_points(boundary_set, area, MAX_MAP_POINTS)
        too_many = len(found) > MAX_MAP_POINTS
        if not too_many:
            points = [Point(lon, lat, STATUS_CLASSES.get(status, "s0")) for lon, lat, status, _c in found]
    svg = render_map(base, classes=classes, titles=titles, links=links, selected=selected, points=points,
                     label=_("Completion by commune"))
    info = None
    if selected:
        shape = base.shape(selected)
        info = {"code": selected, "name": shape.name if shape else selected, "row": rows.get(selected)}
    sets = boundary_sets()
    return render_template(
        "map.html", boundary_set=boundary_set, sets=sets, as_of=as_of, note=date_note, svg=svg, info=info,
        legend=legend(), status_legend=status_legend(), status_colours=STATUS_COLOURS, show_points=show_points,
        too_many=too_many, main=main, today=today(), common=common,
    )
