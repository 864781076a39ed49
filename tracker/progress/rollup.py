"""A report's per-commune sums and rows, and how they are brought up to date.

Rolling up a national campaign (hundreds of thousands of households) costs
one full ``GROUP BY``. A sync touches a handful of communes, so a roll-up
already built is brought up to date by recounting only the communes whose
households changed (:meth:`Rollup.updated`): their rows are rebuilt, and the
district, province and total sums follow by subtracting each recounted
commune's old sums and adding its new ones. Nothing here touches the
database; :mod:`tracker.progress.service` does the counting.

A roll-up is shared between requests once built, so it is never changed in
place: ``updated`` returns a new one, and callers only read the rows.
"""
from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping

import numpy as np

from tracker.progress.tallies import (
    AT_RISK,
    Dated,
    Matrix,
    Tally,
    Unit,
    add_into,
    build_row,
    build_rows,
    collector_paused,
    empty_tally,
)

GROUP_LEVELS = ("district", "province")


def parents(unit: Unit, units: Mapping[str, Unit]) -> tuple[str | None, str | None]:
    """(district code, province code) of a commune."""
    parent = units.get(unit.parent_code or "")
    if parent is None:
        return None, None
    if parent.level == "province":
        return None, parent.code
    grand = units.get(parent.parent_code or "")
    return parent.code, grand.code if grand and grand.level == "province" else None


class Rollup:
    """Sums and rows per commune for one report (a set, plan revision, date, ``known_at`` and scope)."""

    def __init__(self, when: Dated, units: Mapping[str, Unit], tallies: Mapping[str | None, Tally] | Matrix) -> None:
        self.when = when
        self.units = units
        matrix = tallies if isinstance(tallies, Matrix) else Matrix.of(tallies)
        communes = [i for i, code in enumerate(matrix.codes) if code is not None]
        self.unassigned: Tally = empty_tally()
        if len(communes) < len(matrix.codes):
            self.unassigned = matrix.values[matrix.codes.index(None)].tolist()
        order = sorted(communes, key=matrix.codes.__getitem__)
        codes: list[str] = [matrix.codes[i] for i in order]  # type: ignore[misc]  # None left out above
        values = matrix.values[order]
        self.tallies: dict[str, Tally] = {}
        self.rows: dict[str, dict] = {}
        self.totals: Tally = empty_tally()
        self._groups: dict[str, dict[str, Tally]] = {}
        self._parents: dict[str | None, tuple[str | None, str | None]] = {}
        self._levels: dict[str, list[dict]] = {}
        self._put_all(codes, values)
        self._levels["commune"] = list(self.rows.values())  # built in code order
        if codes:
            self.totals = values.sum(axis=0).tolist()

    # --- building ---------------------------------------------------------------

    def _put_all(self, codes: list[str], values: np.ndarray, account: bool = False) -> None:
        """The communes' rows, built together; with ``account``, their sums added to the totals and groups.

        ``values`` (the caller's own) gets each commune's at-risk mark.
        """
        units = [self.units.get(code) for code in codes]
        rows = build_rows(codes, [(u.name if u else "") or None for u in units], "commune",
                          [u.parent_code if u else None for u in units], values, self.when)
        values[:, AT_RISK] = [row["at_risk"] for row in rows]
        tallies = values.tolist()
        self.tallies.update(zip(codes, tallies))
        self.rows.update(zip(codes, rows))
        if account:
            for code, tally in zip(codes, tallies):
                self._account(code, tally, 1)

    def _account(self, code: str, tally: Tally, sign: int) -> None:
        """Add (or with ``sign=-1`` take away) a commune's sums in the total and every group built so far."""
        add_into(self.totals, tally, sign)
        for level, groups in self._groups.items():
            key = self._group_of(code, level)
            if key is not None:
                group = list(groups.get(key) or empty_tally())  # copied: older roll-ups share the list
                add_into(group, tally, sign)
                groups[key] = group

    def _group_of(self, code: str, level: str) -> str | None:
        unit = self.units.get(code)
        if unit is None:
            return None
        if unit.parent_code not in self._parents:
            self._parents[unit.parent_code] = parents(unit, self.units)
        district, province = self._parents[unit.parent_code]
        return district if level == "district" else province

    def _groups_for(self, level: str) -> dict[str, Tally]:
        groups = self._groups.get(level)
        if groups is None:
            members: dict[str, list[Tally]] = {}
            for code, tally in self.tallies.items():
                key = self._group_of(code, level)
                if key is not None:
                    members.setdefault(key, []).append(tally)
            groups = {key: [sum(column) for column in zip(*tallies)] for key, tallies in members.items()}
            self._groups[level] = groups  # published whole: a concurrent reader never sees it half-built
        return groups

    # --- bringing up to date -------------------------------------------------------

    def updated(self, recounted: Iterable[str | None], fresh: Mapping[str | None, Tally]) -> Rollup:
        """A copy in which every commune of ``recounted`` has the sums of ``fresh`` (none: it drops out).

        ``None`` stands for the households no commune took.
        """
        new = copy.copy(self)  # shares the units, parents and unassigned sums; the containers below are its own
        new.tallies, new.rows, new.totals = dict(self.tallies), dict(self.rows), list(self.totals)
        new._groups = {level: dict(groups) for level, groups in self._groups.items()}
        new._levels = {}
        for code in set(recounted):
            if code is None:
                new.unassigned = list(fresh.get(None) or empty_tally())
                continue
            old = new.tallies.pop(code, None)
            new.rows.pop(code, None)
            if old is not None:
                new._account(code, old, -1)
        kept = sorted(code for code in set(recounted) if code is not None and code in fresh)
        new._put_all(kept, Matrix.of({code: fresh[code] for code in kept}).values, account=True)
        return new

    # --- reading -------------------------------------------------------------------

    def level_rows(self, level: str) -> list[dict]:
        """The rows of ``level`` (commune, district or province), by code; shared, never to be changed."""
        rows = self._levels.get(level)
        if rows is None:
            with collector_paused():
                rows = self._build_level(level)
            self._levels[level] = rows
        return rows

    def _build_level(self, level: str) -> list[dict]:
        if level == "commune":
            return [self.rows[code] for code in sorted(self.rows)]
        groups = self._groups_for(level)
        codes = sorted(groups)
        units = [self.units.get(code) or Unit(code, "", level, None) for code in codes]
        return build_rows(codes, [u.name or None for u in units], level, [u.parent_code for u in units],
                          [groups[code] for code in codes], self.when)

    def total_row(self) -> dict | None:
        return build_row("total", None, "total", None, self.totals, self.when) if self.tallies else None
