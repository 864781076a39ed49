"""One unit, one set of figures: the API, its exports, the dashboard, the commune page and the map agree.

The scenario (``finished`` from test_pages_truth): 90002 finishes six days
after the 19 May deadline, 90003 on time, 90001 never, 90004 has no plan.
Each date below puts the units in a different standing, and for each the
figures every view shows are read back and held to the API's row.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.progress_builders import bearer
from tests.test_exports import _csv
from tests.test_pages_truth import _row, finished  # noqa: F401 (fixture)
from tests.test_web import sign_in, text

DATES = ["2025-05-12", "2025-05-19", "2025-06-01"]
CODES = ["90001", "90002", "90003"]  # 90004: no plan and no households, so no row


def _flat(page: str) -> str:
    return re.sub(r"\s+", " ", page.replace("\xa0", " "))


def _day(value: str) -> str:
    return date.fromisoformat(value).strftime("%d/%m/%Y")


def expected_standing(row: dict[str, Any]) -> str:
    """The reading the pages must give for an API row, from the API's own figures."""
    if row["planned"]["total"] == 0:
        return "no plan"
    if row["finished_on"] is not None:
        late = row["days_late"]
        return f"finished {_day(row['finished_on'])}" + (f", {late} day{'s' * (late != 1)} late" if late else "")
    if row["days_overdue"] is not None:
        return f"{row['days_overdue']} days overdue, {row['remaining']} houses left"
    return "at risk" if row["at_risk"] else "on track"


def _percent(row: dict[str, Any]) -> str:
    return "–" if row["percent_complete"] is None else f"{row['percent_complete']:.2f} %"


def _api_rows(client: FlaskClient, as_of: str, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    answer = client.get(f"/api/v1/progress?level=commune&as_of={as_of}", headers=headers)
    assert answer.status_code == 200, answer.json
    return {row["code"]: row for row in answer.json["rows"]}


@pytest.mark.parametrize("as_of", DATES)
def test_api_and_exports_carry_the_same_finish_figures(client: FlaskClient, finished, as_of: str) -> None:  # noqa: F811
    headers = bearer()
    api = _api_rows(client, as_of, headers)
    lines = _csv(client.get(f"/api/v1/export/progress.csv?lang=en&as_of={as_of}", headers=headers))
    blank = lines.index([])
    titles = lines[blank + 1]
    exported = {values["Code"]: values for values in (dict(zip(titles, r)) for r in lines[blank + 2:])}
    assert set(api) == set(exported) - {""} == set(CODES)
    for code in CODES:
        row, out = api[code], exported[code]
        assert out["Planned total"] == str(row["planned"]["total"])
        assert out["Completed total"] == str(row["completed"]["total"])
        assert out["Plan finished on"] == (row["finished_on"] or "")
        assert out["Days late"] == ("" if row["days_late"] is None else str(row["days_late"]))
        assert out["Days overdue"] == ("" if row["days_overdue"] is None else str(row["days_overdue"]))


def test_the_finish_figures_are_right(client: FlaskClient, finished) -> None:  # noqa: F811
    headers = bearer()
    before, on_the_day, after = (_api_rows(client, d, headers) for d in DATES)
    assert (after["90002"]["finished_on"], after["90002"]["days_late"]) == ("2025-05-25", 6)
    assert after["90002"]["projected_finish"] == "2025-05-25", "a finished unit's finish is no projection"
    assert (after["90003"]["finished_on"], after["90003"]["days_late"]) == ("2025-05-10", 0)
    assert (after["90001"]["finished_on"], after["90001"]["days_overdue"]) == (None, 13)
    assert on_the_day["90001"]["days_overdue"] is None, "the deadline day itself is not overdue"
    assert before["90002"]["finished_on"] is None and before["90002"]["days_overdue"] is None
    assert (before["90003"]["finished_on"], before["90003"]["days_late"]) == ("2025-05-10", 0)


@pytest.mark.parametrize("as_of", DATES)
def test_every_page_shows_each_unit_as_the_api_does(client: FlaskClient, finished, as_of: str) -> None:  # noqa: F811
    api = _api_rows(client, as_of, bearer())
    sign_in(client)
    dashboard = _flat(text(client.get(f"/?as_of={as_of}&level=commune&lang=en")))
    geo = client.get(f"/api/v1/map/communes.geojson?as_of={as_of}&zoom=8", headers=bearer()).json
    mapped = {f["id"]: f["properties"] for f in geo["features"]}
    for code in CODES:
        row = api[code]
        planned, done = row["planned"]["total"], row["completed"]["total"]
        reading = expected_standing(row)
        table_row = _row(dashboard, code)
        cells = re.findall(r'<td class="n[^"]*">([^<]*)</td>', table_row)
        assert cells[:3] == [str(planned), str(done), _percent(row)], code
        assert reading in table_row, (code, reading)
        for url in (f"/communes/{code}?as_of={as_of}&lang=en", f"/map?as_of={as_of}&commune={code}&lang=en"):
            page = _flat(text(client.get(url)))
            if planned:
                assert f'Completed</dt><dd class="big">{done} / {planned}</dd>' in page, url
                assert f'Percent of plan</dt><dd class="big">{_percent(row)}</dd>' in page, url
            assert reading in page, (url, reading)
        props = mapped[code]
        assert (props["planned"]["total"], props["completed"]["total"]) == (planned, done)
        assert props["percent_complete"] == row["percent_complete"]
