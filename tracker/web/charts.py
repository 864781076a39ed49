"""The burn-up chart as SVG: pure Python, no Flask.

Completions accumulate over time (a rising line) against the plan in force
on each day, drawn as steps where the plan was revised, with the deadline and
the report date marked. Labels arrive already translated and numbers already
formatted, so this module knows nothing of locales.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

MIN_LABEL_GAP = 56  # chart units between two date labels ("01/2025" is about 42 wide)


@dataclass(frozen=True)
class ChartLabels:
    title: str = "Completions against the plan"
    completed: str = "Completed"
    plan: str = "Plan"
    deadline: str = "Deadline"
    as_of: str = "As of"


def nice_step(maximum: float, ticks: int = 5) -> int:
    """A round tick step (1, 2, 5 × 10ⁿ) giving about ``ticks`` ticks up to ``maximum``."""
    if maximum <= 0:
        return 1
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return max(int(factor * power), 1)
    return max(int(10 * power), 1)


def _month_starts(start: date, end: date) -> list[date]:
    months = []
    current = date(start.year, start.month, 1)
    if current < start:
        current = date(current.year + (current.month == 12), current.month % 12 + 1, 1)
    while current <= end:
        months.append(current)
        current = date(current.year + (current.month == 12), current.month % 12 + 1, 1)
    return months


def burn_up_svg(
    completed: Sequence[tuple[date, int]],
    plan_steps: Sequence[tuple[date, int]],
    *,
    start: date,
    end: date,
    deadline: date | None = None,
    as_of: date | None = None,
    labels: ChartLabels = ChartLabels(),
    number: Callable[[int], str] = str,
    day: Callable[[date], str] = lambda d: d.strftime("%d/%m"),
    width: int = 520,
    height: int = 300,
) -> str:
    """The chart as an ``<svg>`` element.

    ``completed``: (day, cumulative count) points in date order; the line
    holds its value between points. ``plan_steps``: (effective day, planned
    total) for each plan revision; the plan line steps at each.
    """
    if end <= start:
        end = start + timedelta(days=1)
    left, right, top, bottom = 52, 12, 28, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max([c for _, c in completed] + [p for _, p in plan_steps] + [1])
    step = nice_step(top_value)
    y_max = step * math.ceil(top_value / step)
    span = (end - start).days

    def x(d: date) -> float:
        return left + plot_w * min(max((d - start).days, 0), span) / span

    def y(v: float) -> float:
        return top + plot_h * (1 - v / y_max)

    out = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(labels.title)}">'
    ]
    # horizontal grid and value labels
    for value in range(0, int(y_max) + 1, step):
        yy = y(value)
        out.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}"/>')
        out.append(f'<text class="ax" x="{left - 4}" y="{yy + 4:.1f}" text-anchor="end">{escape(number(value))}</text>')
    # month ticks; labels (month/year) thinned so that they never run together
    months = _month_starts(start, end)
    every = max(1, math.ceil(MIN_LABEL_GAP * len(months) / plot_w)) if months else 1
    for i, month in enumerate(months):
        xx = x(month)
        out.append(f'<line class="tick" x1="{xx:.1f}" x2="{xx:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}"/>')
        if i % every == 0:
            anchor = "end" if xx > width - right - MIN_LABEL_GAP / 2 else "middle"  # never cut at the edge
            out.append(f'<text class="ax" x="{xx:.1f}" y="{top + plot_h + 16}" text-anchor="{anchor}">'
                       f'{month.month:02d}/{month.year}</text>')
    # plan: a step line through each revision
    steps = sorted((d, v) for d, v in plan_steps if d <= end)
    if steps:
        points: list[str] = []
        for i, (d, v) in enumerate(steps):
            xx = x(max(d, start))
            if i:
                points.append(f"{xx:.1f},{y(steps[i - 1][1]):.1f}")
            points.append(f"{xx:.1f},{y(v):.1f}")
        points.append(f"{x(end):.1f},{y(steps[-1][1]):.1f}")
        out.append(f'<polyline class="plan" points="{" ".join(points)}"/>')
        for d, v in steps:
            if start <= d <= end:
                out.append(f'<circle class="rev" cx="{x(d):.1f}" cy="{y(v):.1f}" r="3"><title>'
                           f'{escape(labels.plan)} {escape(day(d))}: {escape(number(v))}</title></circle>')
    # completions: a step line held between known points
    series = sorted((d, v) for d, v in completed if start <= d <= end)
    if series:
        points = [f"{x(start):.1f},{y(0):.1f}"]
        last = 0
        for d, v in series:
            points.append(f"{x(d):.1f},{y(last):.1f}")
            points.append(f"{x(d):.1f},{y(v):.1f}")
            last = v
        out.append(f'<polyline class="done" points="{" ".join(points)}"/>')
    for mark, css, text in ((deadline, "dl", labels.deadline), (as_of, "asof", labels.as_of)):
        if mark is not None and start <= mark <= end:
            xx = x(mark)
            out.append(f'<line class="{css}" x1="{xx:.1f}" x2="{xx:.1f}" y1="{top}" y2="{top + plot_h}"/>')
            anchor = "end" if xx > width / 2 else "start"
            shift = -3 if anchor == "end" else 3
            row = top - 14 if css == "dl" else top - 3
            out.append(f'<text class="{css}t" x="{xx + shift:.1f}" y="{row}" text-anchor="{anchor}">'
                       f'{escape(text)} {escape(day(mark))}</text>')
    out.append(f'<line class="axis" x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}"/>')
    out.append("</svg>")
    return "".join(out)
