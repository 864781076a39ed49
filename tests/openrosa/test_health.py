"""Managers: enrol a device from a page (QR code shown), and the sync health list (page and API)."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from tests.openrosa.support import enrolled, household_xml, photo, post
from tests.sync_support import COMMUNE_1, COMMUNE_2, INSIDE_2, bearer, load_communes, make_user, token
from tests.test_web import sign_in
from tests.test_web import token as csrf
from tracker.dbtypes import utcnow
from tracker.extensions import db
from tracker.households.models import HouseholdRevision
from tracker.openrosa import enrol
from tracker.openrosa.models import OpenRosaSubmission


@pytest.fixture
def field(app: Flask, client, tmp_path: Path) -> str:
    """An officer whose phone left one of each kind of trouble."""
    load_communes(tmp_path)
    make_user("canbo", "commune_officer", [COMMUNE_1])
    base = enrolled("canbo", "may-1")
    post(client, base, household_xml(photos=[("a.jpg", "before"), ("b.jpg", "after")]), {"a.jpg": photo()},
         incomplete=True)
    post(client, base, household_xml(deprecated=f"uuid:{uuid.uuid4()}"))
    post(client, base, household_xml(declared_commune=COMMUNE_2, location=f"{INSIDE_2['lat']} {INSIDE_2['lon']} 0 5"))
    old = f"uuid:{uuid.uuid4()}"
    post(client, base, household_xml(old, status="started", status_rank="3", completed_on=""))
    db.session.execute(update(HouseholdRevision).where(HouseholdRevision.household_id == old[5:])
                       .values(received_at=utcnow() - timedelta(days=30)))
    db.session.commit()
    return old[5:]


def test_health_api_lists_what_a_manager_must_chase(client, field: str) -> None:
    make_user("quanly", "manager")
    answer = client.get("/api/v1/sync/health?days=14", headers=bearer(token(client, "quanly", "pc")))
    assert answer.status_code == 200, answer.get_json()
    officer = next(o for o in answer.get_json()["officers"] if o["username"] == "canbo")
    device = next(d for d in officer["devices"] if d["device_id"] == "may-1")
    assert device["collect_key"] is True and device["last_submission_at"]
    assert [w["missing"] for w in device["waiting_for_photos"]] == [["b.jpg"]]
    assert device["held_edits"] == 1
    assert len(device["rejected"]) == 1 and "declared_commune" in device["rejected"][0]["errors"]
    assert officer["stale_households"] == 1 and officer["stale"][0]["id"] == field
    assert client.get("/api/v1/sync/health?days=0", headers=bearer(token(client, "quanly", "pc"))).status_code == 422
    assert client.get("/api/v1/sync/health", headers=bearer(token(client, "canbo"))).status_code == 403


def test_health_page_shows_the_same_figures(client, field: str) -> None:
    sign_in(client, "manager")
    page = client.get("/sync-health?days=14").get_data(as_text=True)
    assert "Tình hình đồng bộ" in page
    row = page[page.index(">canbo<"):]
    cells = re.findall(r'<td class="num"[^>]*>(\d+)', row)
    assert cells[:4] == ["1", "1", "1", "1"], cells  # waiting, held, rejected, stale
    assert "b.jpg" in row and "Phiếu bị từ chối" in row
    waiting = db.session.scalar(select(OpenRosaSubmission.household_id).where(OpenRosaSubmission.state == "waiting_files"))
    household_page = client.get(f"/households/{waiting}").get_data(as_text=True)
    assert "Còn chờ từ điện thoại: b.jpg" in household_page
    assert client.get("/sync-health?days=abc").status_code == 400


def test_officers_may_not_open_the_managers_pages(client, field: str) -> None:
    sign_in(client, "commune_officer", COMMUNE_1)
    assert client.get("/sync-health").status_code == 403
    assert client.get("/devices/enrol").status_code == 403


def test_enrol_page_shows_collects_qr_code_once(client, app: Flask, tmp_path: Path) -> None:
    load_communes(tmp_path)
    make_user("canbo", "commune_officer", [COMMUNE_1])
    sign_in(client, "manager")
    page = client.get("/devices/enrol").get_data(as_text=True)
    assert '<option value="canbo">' in page
    answer = client.post("/devices/enrol", data={"username": "canbo", "device_id": "may-2",
                                                 "csrf_token": csrf(client, "/devices/enrol")})
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<svg" in body and "may-2" in body
    url = re.search(r"<code>(http://localhost/openrosa/key/[^<]+)</code>", body).group(1)
    assert client.get(url.removeprefix("http://localhost") + "/formList").status_code == 200
    bad = client.post("/devices/enrol", data={"username": "canbo", "device_id": "có dấu cách",
                                              "csrf_token": csrf(client, "/devices/enrol")})
    assert bad.status_code == 400 and "Hãy chọn cán bộ" in bad.get_data(as_text=True)
    assert enrol.decode_settings(enrol.encode_settings({"general": {}, "admin": {}})) == {"general": {}, "admin": {}}
