"""Where a unit stands against its deadline, in words an official can repeat.

One reading per report row, shared by the dashboard, the map and the
commune page so the same unit never reads two ways:

* nothing planned: "no plan" (never "on track");
* finished: the day it finished, and how late when that was after the deadline;
* past the deadline and not finished: how many days overdue and how many houses left;
* otherwise "at risk" (the projection misses the deadline) or "on track".
"""
from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from flask_babel import gettext as _
from flask_babel import ngettext

from tracker.web import formatting


class Standing(NamedTuple):
    kind: str  # none | done | late | overdue | risk | ok
    text: str


def standing(row: dict[str, Any], finished_on: date | None, locale: str) -> Standing:
    """The reading of one report row (``finished_on``: the day it reached its plan, when it did)."""
    if row["planned"]["total"] <= 0:
        return Standing("none", _("no plan"))
    deadline = row.get("deadline")
    if row["remaining"] == 0:
        if finished_on is None:
            return Standing("done", _("finished"))
        day = formatting.day(finished_on)
        if deadline is not None and finished_on > deadline:
            late = (finished_on - deadline).days
            return Standing("late", ngettext("finished %(day)s, %(num)s day late",
                                             "finished %(day)s, %(num)s days late", late, day=day))
        return Standing("done", _("finished %(day)s", day=day))
    days_left = row.get("days_left")
    if days_left is not None and days_left < 0:
        left = formatting.number(row["remaining"], locale)
        return Standing("overdue", ngettext("%(num)s day overdue, %(left)s houses left",
                                            "%(num)s days overdue, %(left)s houses left", -days_left, left=left))
    if row["at_risk"]:
        return Standing("risk", _("at risk"))
    return Standing("ok", _("on track"))
