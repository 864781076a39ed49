"""ODK's own form engine fills the published forms and sends them to a live gunicorn server.

``engine/collect.mjs`` loads the XForm and its media from the server (form
list, manifest, media), fills it through ``@getodk/xforms-engine`` (which
enforces the form's constraints), serialises the submission with its photos,
asks ``HEAD …/submission`` for the size one POST may carry and posts the parts
with ``*isIncomplete*`` as Collect does.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from tests.openrosa.engine_client import collect, engine_ready
from tests.sync_support import COMMUNE_1, LiveServer, image_bytes, load_communes, make_user
from tracker.extensions import db
from tracker.households.models import HouseholdRevision
from tracker.openrosa import enrol

pytestmark = pytest.mark.slow


ACCEPT = 250_000  # what the live server accepts in one POST: one of the photos below, not two


@pytest.fixture
def server(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LiveServer, str]]:
    engine_ready()
    monkeypatch.setenv("OPENROSA_ACCEPT_BYTES", str(ACCEPT))
    load_communes(tmp_path)
    make_user("canbo", "commune_officer", [COMMUNE_1])
    db.session.remove()
    live = LiveServer(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "live", workers=2)
    enrolment = enrol.enrol("canbo", live.base, "phone-a")
    db.session.commit()
    try:
        yield live, enrolment.server_url
    finally:
        live.stop()


def photos(tmp_path: Path, count: int, size: tuple[int, int] = (320, 240)) -> list[str]:
    paths = []
    for i in range(count):
        path = tmp_path / f"anh-{i}.jpg"
        path.write_bytes(image_bytes(size=(size[0] + i, size[1])))
        paths.append(str(path))
    return paths


ANSWERS = {
    "household_head": "Sùng A Páo", "ethnicity": "hmong", "category": "near_poor", "members": 6,
    "national_id": "014085009876", "village": "Bản Phiêng Luông", "declared_commune": COMMUNE_1,
    "support_type": "repair", "status": "started", "approved_on": "2025-01-15", "started_on": "2025-02-01",
    "location": "21.05 104.05 650 6.5",
}


def current(household_id: str) -> HouseholdRevision:
    db.session.remove()
    return db.session.scalar(select(HouseholdRevision).where(
        HouseholdRevision.household_id == household_id, HouseholdRevision.superseded_at.is_(None)))


def test_a_registration_filled_by_the_engine_is_split_resent_edited_and_updated(
        server: tuple[LiveServer, str], tmp_path: Path) -> None:
    live, url = server
    shots = photos(tmp_path, 3, (700, 420))
    assert all(ACCEPT / 2 < Path(p).stat().st_size < ACCEPT - 10_000 for p in shots)
    job = {"server": url, "form_id": "household", "answers": ANSWERS,
           "repeats": {"funding": [{"source": "central_budget", "amount_vnd": "30000000"}],
                       "photo": [{"stage": s, "file": p} for s, p in zip(("before", "during", "after"), shots)]},
           "lose_first_answer": True}
    sent = collect(job)
    assert sent["accept_length"] == ACCEPT
    assert list(csv.reader(io.StringIO(sent["media"]["communes.csv"]))) == [["name", "label"], [COMMUNE_1, "Xã Một"]]
    assert sent["chunks"] == 3, sent  # split by the size the server advertised on HEAD
    statuses = [p["status"] for p in sent["posts"]]
    assert statuses == [201] * 6, sent["posts"]
    assert all(p["version"] == "1.0" for p in sent["posts"])
    assert "Còn chờ 2 ảnh" in sent["posts"][0]["message"] and "Còn chờ 1 ảnh" in sent["posts"][1]["message"]
    assert sent["posts"][2]["message"].startswith("Đã cập nhật hộ Sùng A Páo")
    assert all("không có gì thay đổi" in p["message"] for p in sent["posts"][3:]), sent["posts"]  # lost answer
    household_id = sent["instance_id"].removeprefix("uuid:")
    row = current(household_id)
    assert row.revision == 3 and row.data["ethnicity"] == "H'Mông" and row.data["members"] == 6
    assert [p["stage"] for p in row.data["photos"]] == ["before", "during", "after"]
    assert row.data["funding"] == [{"source": "central_budget", "amount_vnd": 30000000}]
    assert row.data["location"] == {"lat": 21.05, "lon": 104.05, "accuracy_m": 6.5}

    # The officer edits the sent form: the engine writes deprecatedID.
    edited = collect({"server": url, "form_id": "household", "answers": {"members": 7},
                      "edit": {"xml": sent["xml"], "files": sent["files"]}})
    assert "<deprecatedID>" in edited["xml"] and [p["status"] for p in edited["posts"]] == [201]
    row = current(household_id)
    assert (row.data["members"], row.base_revision, len(row.data["photos"])) == (7, 3, 3)

    # Progress from the household list: the engine reads __version from households.csv.
    update = collect({"server": url, "form_id": "household_update",
                      "answers": {"household": household_id, "status": "completed", "completed_on": "2025-04-20"},
                      "repeats": {"funding": [{"source": "social_fund", "amount_vnd": "5000000"}],
                                  "photo": [{"stage": "after", "file": photos(tmp_path, 1, (200, 150))[0]}]}})
    listed = list(csv.DictReader(io.StringIO(update["media"]["households.csv"])))
    assert [(r["name"], r["__version"], r["status"]) for r in listed] == [(household_id, "4", "started")]
    assert "<base_version>4</base_version>" in update["xml"]
    assert [p["status"] for p in update["posts"]] == [201], update["posts"]
    row = current(household_id)
    assert row.data["status"] == "completed" and row.data["status_dates"]["completed"] == "2025-04-20"
    assert row.data["funding"][-1] == {"source": "social_fund", "amount_vnd": 5000000}
    assert len(row.data["photos"]) == 4 and row.base_revision == 4


def test_the_engine_enforces_the_forms_constraints(server: tuple[LiveServer, str]) -> None:
    _, url = server
    with pytest.raises(AssertionError, match="pending"):
        collect({"server": url, "form_id": "household", "answers": {**ANSWERS, "national_id": "12345"}})
