"""Where a unit stands against its deadline, in words an official can repeat.

One reading per report row, shared by the dashboard, the map and the
commune page so the same unit never reads two ways:

* nothing planned: "no plan" (never "on track");
* finished: the day it finished, and how late when that was after the deadline;
* past the deadline and not finished: how many days overdue and how many houses left;
* otherwise "at risk" (the projection misses the deadline) or "on track".
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from flask_babel import gettext as _
from flask_babel import ngettext

from tracker.web import formatting


class Standing(NamedTuple):
    kind: str  # none | done | late | overdue | risk | ok
    text: str


def standings(rows: Iterable[dict[str, Any]], locale: str) -> list[Standing]:
    """The reading of each report row that carries its finish figures (:mod:`tracker.progress.finish`).

    Each distinct reading is worded once: a national page has 11,163 rows,
    most of them "at risk" or "on track", and wording each one on its own
    (a translation lookup apiece) cost a fifth of a second.
    """
    worded: dict[tuple[Any, ...], Standing] = {}
    out = []
    for row in rows:
        key = _what(row)
        if key not in worded:
            worded[key] = _worded(key, locale)
        out.append(worded[key])
    return out


def _what(row: dict[str, Any]) -> tuple[Any, ...]:
    """What a row's reading says, and nothing else: its kind and the figures its words carry."""
    if row["planned"]["total"] <= 0:
        return ("none",)
    if row["remaining"] == 0:
        return ("done", row["finished_on"], row["days_late"])
    if row["days_overdue"] is not None:
        return ("overdue", row["days_overdue"], row["remaining"])
    return ("risk",) if row["at_risk"] else ("ok",)


def _worded(key: tuple[Any, ...], locale: str) -> Standing:
    kind = key[0]
    if kind == "none":
        return Standing("none", _("no plan"))
    if kind == "done":
        _kind, finished_on, days_late = key
        if finished_on is None:
            return Standing("done", _("finished"))
        day = formatting.day(finished_on)
        if days_late:
            return Standing("late", ngettext("finished %(day)s, %(num)s day late",
                                             "finished %(day)s, %(num)s days late", days_late, day=day))
        return Standing("done", _("finished %(day)s", day=day))
    if kind == "overdue":
        _kind, days_overdue, remaining = key
        left = formatting.number(remaining, locale)
        return Standing("overdue", ngettext("%(num)s day overdue, %(left)s houses left",
                                            "%(num)s days overdue, %(left)s houses left", days_overdue, left=left))
    return Standing("risk", _("at risk")) if kind == "risk" else Standing("ok", _("on track"))
