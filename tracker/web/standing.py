"""Where a unit stands against its deadline, in words an official can repeat.

One reading per report row, shared by the dashboard, the map and the
commune page so the same unit never reads two ways:

* nothing planned: "no plan" (never "on track");
* finished: the day it finished, and how late when that was after the deadline;
* past the deadline and not finished: how many days overdue and how many houses left;
* otherwise "at risk" (the projection misses the deadline) or "on track".
"""
from __future__ import annotations

from typing import Any, NamedTuple

from flask_babel import gettext as _
from flask_babel import ngettext

from tracker.web import formatting


class Standing(NamedTuple):
    kind: str  # none | done | late | overdue | risk | ok
    text: str


def standing(row: dict[str, Any], locale: str) -> Standing:
    """The reading of one report row that carries its finish figures (:mod:`tracker.progress.finish`)."""
    if row["planned"]["total"] <= 0:
        return Standing("none", _("no plan"))
    if row["remaining"] == 0:
        finished_on = row["finished_on"]
        if finished_on is None:
            return Standing("done", _("finished"))
        day = formatting.day(finished_on)
        if row["days_late"]:
            return Standing("late", ngettext("finished %(day)s, %(num)s day late",
                                             "finished %(day)s, %(num)s days late", row["days_late"], day=day))
        return Standing("done", _("finished %(day)s", day=day))
    if row["days_overdue"] is not None:
        left = formatting.number(row["remaining"], locale)
        return Standing("overdue", ngettext("%(num)s day overdue, %(left)s houses left",
                                            "%(num)s days overdue, %(left)s houses left", row["days_overdue"], left=left))
    if row["at_risk"]:
        return Standing("risk", _("at risk"))
    return Standing("ok", _("on track"))
