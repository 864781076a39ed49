"""The printable report for a chosen date: the figures a province sends up, on A4.

Plan, started, completed by support type, percent, funding by source, and
the units that are late or at risk, from the same roll-up as every other
page. Vietnamese unless English was chosen; the browser prints it (no script).
"""
from __future__ import annotations

from typing import Any

from flask import render_template

from tracker.consistent_reads import consistent_reads
from tracker.plans.history import programme_results
from tracker.web import queries
from tracker.web.auth import login_required
from tracker.web.blueprint import bp
from tracker.web.dashboard import area_report, readings, report
from tracker.web.standing import Standing

LATE_KINDS = ("overdue", "late", "risk")


@bp.route("/report")
@consistent_reads
@login_required()
def printable_report() -> Any:
    boundary_set, as_of, area, main = area_report()
    level = "district" if queries.has_level(boundary_set, "district") else "commune"
    units = report(boundary_set, as_of, level, area) if level == "district" else main
    shown = list(units.rows) + list(main.rows if level == "district" else []) + ([main.totals] if main.totals else [])
    read = readings(main, shown)
    late = [r for r in main.rows if read[(r["level"], r["code"])].kind in LATE_KINDS]
    late.sort(key=lambda r: (LATE_KINDS.index(read[(r["level"], r["code"])].kind), r["percent_complete"] or 0))
    return render_template("report.html", boundary_set=boundary_set, as_of=as_of, main=main, rows=units.rows,
                           late=late, readings=read, units=queries.unit_index(boundary_set),
                           province=queries.province(boundary_set), level=level, total_reading=_total(read),
                           history=programme_results())


def _total(read: dict[tuple[str, str], Standing]) -> Standing | None:
    return read.get(("total", "total"))
