"""The comparison report: each old commune → new unit, with the figures of both maps for one date.

Each map's figures come from its own progress report (its own plan, the
households assigned under it), for the same ``as_of`` and ``known_at``.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from tracker.boundaries.models import BoundarySet
from tracker.crosswalks.models import Crosswalk
from tracker.crosswalks.service import link_rows
from tracker.exports.writers import Column
from tracker.progress.service import progress_report, resolve

FIGURES = ("planned", "started", "completed")


def _figures(row: dict[str, Any] | None) -> dict[str, Any]:
    if row is None:
        return {**{name: 0 for name in FIGURES}, "percent_complete": None}
    return {**{name: row[name]["total"] for name in FIGURES}, "percent_complete": row["percent_complete"]}


def comparison(
    crosswalk: Crosswalk, old: BoundarySet, new: BoundarySet, as_of: date, known_at: datetime,
    scope: frozenset[str] | None,
) -> dict[str, Any]:
    """Rows old → new with both maps' figures, and both maps' totals."""
    reports = {}
    for key, boundary_set in (("old", old), ("new", new)):
        ctx = resolve(as_of, known_at, boundary_set.name, None, scope)
        reports[key] = (ctx, progress_report(ctx, "commune"))
    by_code = {key: {row["code"]: row for row in report.rows} for key, (_, report) in reports.items()}
    rows = [
        {"old_code": link.old_code, "old_name": link.old_name, "new_code": link.new_code, "new_name": link.new_name,
         "share": link.share, "old": _figures(by_code["old"].get(link.old_code)),
         "new": _figures(by_code["new"].get(link.new_code))}
        for link in link_rows(crosswalk, scope)
    ]
    rows.sort(key=lambda r: (r["old_code"], r["new_code"]))
    return {
        "from_set": old.name, "to_set": new.name, "as_of": as_of, "known_at": reports["old"][0].known_at,
        "plans": {key: ctx.plan_ref() for key, (ctx, _) in reports.items()},
        "totals": {key: _figures(report.totals) for key, (_, report) in reports.items()},
        "rows": rows,
    }


COLUMNS = [
    Column("old_code", "Mã xã cũ", "Old commune code", "code"),
    Column("old_name", "Xã cũ", "Old commune"),
    Column("new_code", "Mã đơn vị mới", "New unit code", "code"),
    Column("new_name", "Đơn vị mới", "New unit"),
    Column("share", "Tỷ lệ diện tích", "Share of area", "percent"),
    *(Column(f"old_{name}", f"{vi} (cũ)", f"{en} (old)", "int") for name, vi, en in (
        ("planned", "Kế hoạch", "Planned"), ("started", "Đã khởi công", "Started"),
        ("completed", "Hoàn thành", "Completed"))),
    Column("old_percent", "Tỷ lệ hoàn thành (cũ)", "Percent complete (old)", "percent"),
    *(Column(f"new_{name}", f"{vi} (mới)", f"{en} (new)", "int") for name, vi, en in (
        ("planned", "Kế hoạch", "Planned"), ("started", "Đã khởi công", "Started"),
        ("completed", "Hoàn thành", "Completed"))),
    Column("new_percent", "Tỷ lệ hoàn thành (mới)", "Percent complete (new)", "percent"),
]


def _percent(value: float | None) -> float | None:
    return None if value is None else value / 100


def file_rows(body: dict[str, Any], lang: str) -> list[tuple[Any, ...]]:
    """The rows as the file's columns, with a total line for each map."""
    def line(row: dict[str, Any]) -> tuple[Any, ...]:
        old, new = row["old"], row["new"]
        return (row["old_code"], row["old_name"], row["new_code"], row["new_name"], row["share"],
                *(old[n] for n in FIGURES), _percent(old["percent_complete"]),
                *(new[n] for n in FIGURES), _percent(new["percent_complete"]))

    total = {"old_code": "", "old_name": "Tổng cộng" if lang == "vi" else "Total", "new_code": "", "new_name": "",
             "share": None, **body["totals"]}
    return [line(r) for r in body["rows"]] + [line(total)]


def header(body: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    vi = lang == "vi"

    def plan(ref: dict[str, Any] | None) -> str:
        return f"{ref['name']} (revision {ref['revision']})" if ref else "—"

    return [
        ("So sánh hai bản đồ hành chính" if vi else "Comparison of the two administrative maps",
         f"{body['from_set']} → {body['to_set']}"),
        ("Tính đến ngày" if vi else "As of", body["as_of"].isoformat()),
        ("Dữ liệu nhận đến" if vi else "Known at", body["known_at"].isoformat(timespec="seconds")),
        ("Kế hoạch (cũ)" if vi else "Plan (old map)", plan(body["plans"]["old"])),
        ("Kế hoạch (mới)" if vi else "Plan (new map)", plan(body["plans"]["new"])),
    ]
