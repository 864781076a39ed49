"""What a request stores for later (a day's sums, a whole map) is stored once its answer is sent, not before."""
from __future__ import annotations

import gzip
import json
import logging
import time
import urllib.request
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.progress_builders import bearer
from tests.sync_support import LiveServer
from tests.test_progress import AS_OF, scenario
from tracker.extensions import db
from tracker.progress import snapshots
from tracker.progress.models import StoredAnswer, TallySnapshot


def _stored() -> tuple[list, list]:
    db.session.rollback()  # read what other connections committed
    return (db.session.scalars(select(TallySnapshot.day)).all(),
            db.session.execute(select(StoredAnswer.day, StoredAnswer.name)).all())


@pytest.mark.parametrize("url", [f"/api/v1/progress?as_of={AS_OF}&level=commune",
                                 f"/api/v1/map/communes.geojson?as_of={AS_OF}&zoom=8"])
def test_the_day_is_stored_after_the_answer_is_sent(app: Flask, tmp_path: Path, url: str) -> None:
    scenario(tmp_path)
    sent = FlaskClient(app).get(url, headers=bearer())  # a WSGI server closes the answer once it is written
    assert sent.status_code == 200 and sent.get_data()
    assert _stored() == ([], [])  # the answer went out first
    sent.close()
    days, answers = _stored()
    day = date.fromisoformat(AS_OF)
    assert days == [day]
    assert [(row.day, row.name) for row in answers] == ([(day, "map:8")] if "map" in url else [])


def test_behind_gunicorn_the_map_is_stored_once_sent(app: Flask, tmp_path: Path) -> None:
    """gunicorn closes each answer once written: the map it sent is then stored for every other worker."""
    scenario(tmp_path)
    headers = {**bearer(), "Accept-Encoding": "gzip"}
    db.session.remove()
    server = LiveServer(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "live", workers=1)
    try:
        url = f"{server.base}/api/v1/map/communes.geojson?as_of={AS_OF}&zoom=7"
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as answer:
            sent = json.loads(gzip.decompress(answer.read()))
        assert len(sent["features"]) == 4
        day, deadline = date.fromisoformat(AS_OF), time.monotonic() + 10
        while (stored := [row for row in _stored()[1] if row.day == day]) == [] and time.monotonic() < deadline:
            time.sleep(0.05)  # today's, stored by the worker's warm-up, is left aside
        assert [row.name for row in stored] == ["map:7"]
        body = db.session.scalar(select(StoredAnswer.body).where(StoredAnswer.day == day))
        assert json.loads(gzip.decompress(body))["features"] == sent["features"]
    finally:
        server.stop()


def test_a_store_that_fails_after_the_answer_is_logged_and_the_answer_stands(
        app: Flask, client: FlaskClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    scenario(tmp_path)

    def broken(*args: object) -> bool:
        raise RuntimeError("disk full")

    monkeypatch.setattr(snapshots, "keep", broken)
    with caplog.at_level(logging.ERROR, logger="tracker.http"):
        answer = client.get(f"/api/v1/progress?as_of={AS_OF}&level=commune", headers=bearer())
    assert answer.status_code == 200 and answer.json["totals"]["households"] > 0
    assert "work after the answer failed" in caplog.text and "disk full" in caplog.text
    assert _stored() == ([], [])
