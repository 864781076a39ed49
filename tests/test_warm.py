"""A worker loads the set's units, plan targets and map outlines when it starts (``gunicorn.conf.py``)."""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import delete, event, select

from schemas.progress import MAP_ZOOM, NATIONAL_ZOOM
from sync.vocabulary import today as programme_today
from tests.progress_builders import bearer
from tests.test_progress import AS_OF, scenario
from tracker.app import create_app
from tracker.boundaries import outlines
from tracker.extensions import db
from tracker.progress.models import StoredAnswer, TallySnapshot
from tracker.progress.warm import warm

LOADED_AT_START = ("FROM admin_units", "FROM plan_targets", "FROM unit_outlines")
COUNTED_FROM = ("FROM commune_tallies", "FROM tally_snapshots", "FROM tally_journal", "FROM stored_answers",
                "FROM revision_assignments")


def _fresh_worker(app: Flask) -> None:
    """Forget what this process loaded, as a worker just started has nothing, and every stored answer."""
    for name in [n for n in app.extensions if n.startswith("progress_") or n == "plan_targets"]:
        del app.extensions[name]
    outlines._CACHE.clear()
    for model in (StoredAnswer, TallySnapshot):
        db.session.execute(delete(model))
    db.session.commit()


def _first_map_reads(app: Flask, zoom: int = MAP_ZOOM) -> list[str]:
    """The statements of the first communes map answer, which of LOADED_AT_START it read."""
    seen: list[str] = []

    def heard(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        seen.extend(table for table in LOADED_AT_START if table in " ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", heard)
    try:
        response = app.test_client().get(f"/api/v1/map/communes.geojson?as_of={AS_OF}&zoom={zoom}", headers=bearer())
        assert response.status_code == 200 and len(response.json["features"]) == 4
    finally:
        event.remove(db.engine, "before_cursor_execute", heard)
    return seen


def test_a_warmed_worker_answers_its_first_map_without_loading_the_set_plan_or_outlines(
        app: Flask, tmp_path: Path) -> None:
    scenario(tmp_path)
    _fresh_worker(app)
    assert sorted(set(_first_map_reads(app))) == sorted(LOADED_AT_START)  # not warmed: it loads them itself
    _fresh_worker(app)
    assert warm(app) is True
    assert _first_map_reads(app) == [] and _first_map_reads(app, NATIONAL_ZOOM) == []


def _statements(app: Flask, url: str) -> tuple[dict, list[str]]:
    """The answer to ``url`` (JSON) and every statement it ran."""
    seen: list[str] = []

    def heard(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", heard)
    try:
        response = app.test_client().get(url, headers=bearer())
        assert response.status_code == 200, response.data
    finally:
        event.remove(db.engine, "before_cursor_execute", heard)
    return response.json, seen


def test_a_warmed_worker_has_todays_report_and_map_ready_and_stored_for_the_others(
        app: Flask, tmp_path: Path) -> None:
    scenario(tmp_path)
    today = programme_today().isoformat()  # the worker warms Vietnam's today, not the machine's
    expected, _ = _statements(app, f"/api/v1/progress?as_of={today}&level=commune")
    _fresh_worker(app)
    assert warm(app) is True
    for url in (f"/api/v1/progress?as_of={today}&level=commune", f"/api/v1/map/communes.geojson?as_of={today}"):
        answer, statements = _statements(app, url)
        counted = [s for s in statements if any(t in s for t in COUNTED_FROM)]
        assert counted == [], f"{url} counted again: {counted}"
    assert answer["zoom"] == MAP_ZOOM and len(answer["features"]) == 4
    shown = {f["id"]: f["properties"]["completed"]["total"] for f in answer["features"]}
    assert shown == {row["code"]: row["completed"]["total"] for row in expected["rows"]}
    assert sum(shown.values()) == expected["totals"]["completed"]["total"] > 0
    stored = db.session.execute(select(StoredAnswer.day, StoredAnswer.name)).all()
    assert [(d.isoformat(), n) for d, n in stored] == [(today, f"map:{MAP_ZOOM}")]  # another worker sends it


def test_a_map_asks_once_whether_the_kept_tallies_cover_it(app: Flask, tmp_path: Path) -> None:
    """The stored answer, the figures and the finish days of one answer follow one decision."""
    scenario(tmp_path)
    _, statements = _statements(app, f"/api/v1/map/communes.geojson?as_of={AS_OF}")
    asked = [s for s in statements if s.startswith("SELECT tally_states.last_revision_id")]
    assert len(asked) == 1, statements


def test_a_worker_with_no_set_yet_or_no_database_still_starts(app: Flask, tmp_path: Path) -> None:
    assert warm(app) is False  # nothing loaded yet
    away = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/folder/tracker.db",
                       "INSTANCE_DIR": str(tmp_path / "instance"), "ENV_NAME": "testing"})
    assert warm(away) is False
