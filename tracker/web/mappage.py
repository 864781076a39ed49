"""The completion map page: communes coloured by percent of plan as of a date, households as dots.

Every figure comes from the same roll-up as the dashboard (one report per
page); dots take the status each household had on the chosen date. An
officer's map is fitted to their own communes. Dots are drawn on request
(``?points=1``) on the whole province, where they would bury the commune
colours on a phone, and by default on a map fitted to a few communes.
"""
from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import gettext as _

from tracker.boundaries.service import boundary_sets
from tracker.consistent_reads import consistent_reads
from tracker.web import formatting, queries
from tracker.web.auth import login_required
from tracker.web.blueprint import CODE, BadQuery, bp, links_to, locale_code
from tracker.web.dashboard import area_report, readings, today
from tracker.web.maps import base_map
from tracker.web.svgmap import NO_PLAN, PERCENT_BINS, STATUS_CLASSES, STATUS_COLOURS, Point, overlay_svg, percent_class, render_map

MAX_MAP_POINTS = 20_000
FITTED_POINTS = 60  # at most this many communes: the map is fitted to them and dots are drawn by default


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
@consistent_reads
@login_required()
def completion_map() -> Any:
    boundary_set, as_of, area, main = area_report()
    rows = {row["code"]: row for row in main.rows}
    base = base_map(boundary_set)
    visible = {s.code for s in base.shapes if queries.commune_visible(area, s.code)}
    fitted = visible if area is not None and len(visible) <= FITTED_POINTS else None
    selected = request.args.get("commune")
    if selected is not None and selected not in visible:
        raise BadQuery(404, _("There is no commune “%(code)s” on this map in your area.", code=selected[:20]))
    if selected is None and fitted is not None and len(fitted) == 1:
        selected = next(iter(fitted))  # an officer of one commune sees its figures at once
    common = {"set": boundary_set.name, "as_of": as_of.isoformat()}
    show_points = request.args.get("points", "1" if fitted else "0") == "1"
    common["points"] = "1" if show_points else "0"
    classes, titles, links = _colours(base, rows, visible, common)
    points, too_many = _points(boundary_set, area, as_of) if show_points else ([], False)
    overlay = ""
    if fitted is None and queries.has_level(boundary_set, "district"):
        overlay = overlay_svg(base_map(boundary_set, "district").shapes)
    svg = render_map(base, classes=classes, titles=titles, links=links, selected=selected, points=points,
                     label=_("Completion by commune"), only=fitted, overlay=overlay)
    info = None
    if selected:
        row = rows.get(selected)
        info = {"code": selected, "name": (base.shape(selected) or base.shapes[0]).name, "row": row,
                "reading": readings(main, [row])[("commune", selected)] if row else None}
    return render_template(
        "map.html", boundary_set=boundary_set, sets=boundary_sets(), as_of=as_of, svg=svg, info=info,
        legend=legend(), status_legend=status_legend(), status_colours=STATUS_COLOURS, show_points=show_points,
        too_many=too_many, main=main, today=today(), common=common,
        title_units=queries.unit_names(boundary_set, "commune") if fitted else {}, fitted=sorted(fitted or ()),
    )


def _colours(base: Any, rows: dict[str, Any], visible: set[str], common: dict[str, str]) -> tuple[dict, dict, dict]:
    loc = locale_code()
    classes: dict[str, str] = {}
    titles: dict[str, str] = {}
    links: dict[str, str] = {}
    link = links_to("web.completion_map", commune=CODE, **common)
    for shape in base.shapes:
        if shape.code not in visible:
            classes[shape.code] = "out"
            continue
        row = rows.get(shape.code)
        pct = row["percent_complete"] if row else None
        classes[shape.code] = percent_class(pct)
        titles[shape.code] = f"{shape.name}: {formatting.percent(pct, loc) if pct is not None else _('no plan')}"
        links[shape.code] = link(shape.code) + "#info"
    return classes, titles, links


def _points(boundary_set: Any, area: frozenset[str] | None, as_of: Any) -> tuple[list[Point], bool]:
    found = queries.map_points(boundary_set, area, MAX_MAP_POINTS, as_of)
    if len(found) > MAX_MAP_POINTS:
        return [], True
    return [Point(lon, lat, STATUS_CLASSES.get(status, "s0")) for lon, lat, status, _c in found], False
