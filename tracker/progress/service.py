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

The work is split by what it does: :mod:`~tracker.progress.context` resolves
what a report is about, :mod:`~tracker.progress.counting` counts per commune
(or sums the kept tallies), :mod:`~tracker.progress.cache` remembers and
brings roll-ups up to date, :mod:`~tracker.progress.timeline` gives figures
over time. This module puts them together and keeps their public names.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sync.vocabulary import today as today_vn
from tracker.errors import ApiError
from tracker.progress.cache import (
    CACHE_ENTRIES,
    CACHE_SECONDS,
    FULL_RECOUNT_SECONDS,
    MAX_CHANGED,
    Mark,
    ReportKey,
    changed_communes,
    current_rollup,
    data_mark,
    remember,
    report_key,
)
from tracker.progress.context import ReportContext, context_from_args, resolve, resolve_set
from tracker.progress.counting import (
    commune_sums_query,
    commune_tallies,
    counted_tallies,
    household_states,
    known_filter,
    set_units,
)
from tracker.progress.tallies import unassigned_summary
from tracker.progress.timeline import completed_by_day, finish_days

__all__ = [
    "CACHE_ENTRIES", "CACHE_SECONDS", "FULL_RECOUNT_SECONDS", "MAX_CHANGED", "Mark", "Report", "ReportContext",
    "ReportKey", "changed_communes", "commune_sums_query", "commune_tallies", "completed_by_day", "context_from_args",
    "counted_tallies", "current_rollup", "data_mark", "finish_days", "household_states", "known_filter",
    "progress_report", "remember", "report_key", "resolve", "resolve_set", "set_units", "today_vn",
]


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
