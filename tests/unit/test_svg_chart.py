"""The burn-up chart and the Vietnamese number and date formats."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime

from tracker.web import formatting
from tracker.web.charts import ChartLabels, burn_up_svg, nice_step


def test_nice_steps() -> None:
    assert [nice_step(v) for v in (0, 4, 10, 3058, 334_000)] == [1, 1, 2, 1000, 100_000]


def _points(svg: str, css: str) -> list[tuple[float, float]]:
    found = re.search(rf'<polyline class="{css}" points="([^"]+)"', svg)
    assert found, css
    return [tuple(float(v) for v in p.split(",")) for p in found.group(1).split()]  # type: ignore[misc]


def test_burn_up_draws_plan_steps_completions_deadline_and_date() -> None:
    svg = burn_up_svg(
        [(date(2025, 2, 1), 100), (date(2025, 3, 1), 900), (date(2025, 4, 16), 2553)],
        [(date(2025, 1, 1), 2887), (date(2025, 4, 20), 3058)],
        start=date(2025, 1, 1), end=date(2025, 5, 19), deadline=date(2025, 5, 19), as_of=date(2025, 4, 16),
        labels=ChartLabels(deadline="Hạn chót", as_of="Tính đến"), number=lambda v: f"{v:,}".replace(",", "."),
    )
    plan = _points(svg, "plan")
    assert len({y for _, y in plan}) == 2, "one step: two plan levels"
    done = _points(svg, "done")
    assert done[0][1] > done[-1][1], "completions rise (y grows downwards)"
    assert "Hạn chót 19/05" in svg and "Tính đến 16/04" in svg
    assert ">3.000<" in svg or ">4.000<" in svg, "grid labels formatted by the caller"
    assert svg.count('class="rev"') == 2


def _axis_labels(svg: str) -> list[tuple[float, str]]:
    return [(float(x), text) for x, text in re.findall(r'<text class="ax" x="([\d.]+)" y="282" '
                                                      r'text-anchor="(?:middle|end)">([^<]+)</text>', svg)]


def test_date_axis_names_months_and_years_and_never_runs_together() -> None:
    short = _axis_labels(burn_up_svg([], [(date(2025, 1, 1), 10)], start=date(2025, 1, 1), end=date(2025, 5, 19)))
    assert [t for _, t in short] == ["01/2025", "02/2025", "03/2025", "04/2025", "05/2025"]
    edge = burn_up_svg([], [(date(2025, 1, 1), 10)], start=date(2025, 1, 1), end=date(2025, 6, 3))
    assert 'text-anchor="end">06/2025<' in edge, "a label at the right edge is not cut off"
    long = _axis_labels(burn_up_svg([], [(date(2020, 1, 1), 10)], start=date(2020, 1, 1), end=date(2025, 12, 31)))
    assert long[0][1] == "01/2020" and long[-1][1].endswith("2025")
    gaps = [b - a for (a, _), (b, _) in zip(long, long[1:])]
    assert min(gaps) >= 48, "labels about 42 units wide never overlap"


def test_burn_up_survives_degenerate_input() -> None:
    svg = burn_up_svg([], [], start=date(2025, 1, 1), end=date(2025, 1, 1))
    assert svg.startswith("<svg") and "<polyline" not in svg


def test_vietnamese_formats() -> None:
    assert formatting.number(1234567) == "1.234.567"
    assert formatting.vnd(1234567) == "1.234.567\u00a0₫"
    assert formatting.percent(88.24) == "88,24\u00a0%"
    assert formatting.day(date(2025, 4, 16)) == "16/04/2025"
    assert formatting.day("2025-04-16") == "16/04/2025"
    assert formatting.moment(datetime(2025, 4, 16, 2, 5, tzinfo=UTC)) == "16/04/2025 09:05"
    assert formatting.number(1234567, "en") == "1,234,567"
    assert formatting.number(None) == formatting.vnd(None) == formatting.day(None) == "–"
