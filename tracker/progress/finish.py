"""Report rows with the day each unit finished, how late it was, and how long overdue.

Finding the day needs the households' supported dates, which the roll-up
does not keep, so these figures are added to copies of the rows for the
answers that show them (the API, the exports) rather than to the shared
roll-up that every report reads.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from tracker.progress.pace import finish
from tracker.progress.service import Report, ReportContext, finish_days
from tracker.progress.tallies import collector_paused


def with_finish(ctx: ReportContext, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` (any levels, the ``total`` row too) each with ``finished_on``, ``days_late`` and ``days_overdue``.

    A row is built with none of them (:func:`~tracker.progress.tallies.build_rows`),
    which most units keep: only the others are copied, with their figures
    (worked out once per distinct set).
    """
    days = finish_days(ctx, rows)
    figures: dict[tuple[Any, ...], dict[str, Any] | None] = {}
    out = []
    with collector_paused():  # thousands of row copies, none in a cycle
        for row in rows:
            planned = row["planned"]["total"]
            key = (planned > 0, row["remaining"] == 0, days.get((row["level"], row["code"])), row["deadline"])
            if key not in figures:
                finished_on, late, overdue = finish(planned, row["remaining"], key[2], ctx.as_of, row["deadline"])
                found = {"finished_on": finished_on, "days_late": late, "days_overdue": overdue}
                if finished_on is not None:  # a finished unit's finish is a fact, not a projection
                    found["projected_finish"] = finished_on
                figures[key] = None if found == _NONE else found
            found = figures[key]
            out.append(row if found is None else row | found)
    return out


_NONE = {"finished_on": None, "days_late": None, "days_overdue": None}


def finished_report(report: Report) -> Report:
    """``report`` with its rows and totals carrying the finish figures (one count for both)."""
    rows = with_finish(report.ctx, [*report.rows, *([report.totals] if report.totals is not None else [])])
    if report.totals is None:
        return replace(report, rows=rows)
    return replace(report, rows=rows[:-1], totals=rows[-1])
