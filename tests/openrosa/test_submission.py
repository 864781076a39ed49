"""Submissions: a submission is a push from another client (through the Flask test client)."""
from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from xml.etree import ElementTree

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.openrosa.support import NS, enrolled, household_xml, photo, post, update_xml
from tests.sync_support import COMMUNE_1, bearer, load_communes, make_user, token
from tracker.extensions import db
from tracker.households.models import Household, HouseholdRevision, Photo
from tracker.openrosa.models import OpenRosaSubmission


@pytest.fixture
def officer(app: Flask, tmp_path: Path) -> str:
    load_communes(tmp_path)
    make_user("canbo", "commune_officer", [COMMUNE_1])
    return enrolled("canbo")


def message(response, status: int = 201) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert "Traceback" not in response.get_data(as_text=True)
    return ElementTree.fromstring(response.data).find("r:message", NS).text


def current(household_id: str) -> HouseholdRevision:
    db.session.expire_all()
    return db.session.scalar(select(HouseholdRevision).where(
        HouseholdRevision.household_id == household_id, HouseholdRevision.superseded_at.is_(None)))


def revisions() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(HouseholdRevision))


def test_a_registration_becomes_the_household_of_its_instance_uuid(client, officer: str) -> None:
    instance = f"uuid:{uuid.uuid4()}"
    files = {"truoc.jpg": photo(1)}
    text = message(post(client, officer, household_xml(instance, photos=[("truoc.jpg", "before")]), files))
    assert text.startswith("Đã ghi hộ mới Lò Văn Việt (phiên bản 1).") and "90001" in text
    row = current(instance.removeprefix("uuid:"))
    assert row.data["ethnicity"] == "Thái" and row.data["members"] == 5
    assert row.data["funding"] == [{"source": "central_budget", "amount_vnd": 60000000},
                                   {"source": "social_fund", "amount_vnd": 10000000}]
    assert row.data["location"] == {"lat": 21.05, "lon": 104.05, "accuracy_m": 8.0}
    assert row.data["photos"] == [{"sha256": hashlib.sha256(files["truoc.jpg"]).hexdigest(), "stage": "before"}]
    assert row.data["captured_at"] == "2025-04-02T16:40:00+07:00" and row.device_id == "phone-a"
    assert db.session.get(Photo, row.data["photos"][0]["sha256"]) is not None
    # The JSON API sees the same household.
    answer = client.get(f"/api/v1/households/{row.household_id}", headers=bearer(token(client, "canbo")))
    assert answer.status_code == 200 and answer.get_json()["revision"] == 1


def test_identical_resend_changes_nothing_and_different_content_is_409(client, officer: str) -> None:
    instance = f"uuid:{uuid.uuid4()}"
    xml = household_xml(instance)
    message(post(client, officer, xml))
    before = revisions()
    assert "không có gì thay đổi" in message(post(client, officer, xml))
    assert revisions() == before
    assert "nội dung khác" in message(post(client, officer, household_xml(instance, members="6")), 409)
    assert current(instance.removeprefix("uuid:")).data["members"] == 5


def test_split_submission_completes_the_same_household(client, officer: str) -> None:
    instance = f"uuid:{uuid.uuid4()}"
    names = [("a.jpg", "before"), ("b.jpg", "during"), ("c.jpg", "after")]
    files = {name: photo(i) for i, (name, _) in enumerate(names)}
    xml = household_xml(instance, photos=names)
    first = message(post(client, officer, xml, {"a.jpg": files["a.jpg"]}, incomplete=True))
    assert "Còn chờ 2 ảnh: b.jpg, c.jpg." in first
    household_id = instance.removeprefix("uuid:")
    assert len(current(household_id).data["photos"]) == 1
    auth = bearer(token(client, "canbo"))
    assert client.get(f"/api/v1/households/{household_id}", headers=auth).get_json()["waiting_for_files"] == [
        "b.jpg", "c.jpg"]
    db.session.expire_all()
    assert db.session.get(OpenRosaSubmission, instance).state == "waiting_files"
    last = message(post(client, officer, xml, {"b.jpg": files["b.jpg"], "c.jpg": files["c.jpg"]}))
    assert "Còn chờ" not in last
    row = current(household_id)
    assert [p["stage"] for p in row.data["photos"]] == ["before", "during", "after"]
    assert row.revision == 2
    db.session.expire_all()
    assert db.session.get(OpenRosaSubmission, instance).state == "complete"
    assert client.get(f"/api/v1/households/{household_id}", headers=auth).get_json()["waiting_for_files"] == []
    # Collect sends every part again after a lost answer: nothing changes.
    message(post(client, officer, xml, {"a.jpg": files["a.jpg"]}, incomplete=True))
    message(post(client, officer, xml, {"b.jpg": files["b.jpg"], "c.jpg": files["c.jpg"]}))
    assert current(household_id).revision == 2
    assert db.session.scalar(select(func.count()).select_from(Household)) == 1


def test_an_edit_is_based_on_the_revision_of_the_instance_it_edits(client, officer: str) -> None:
    original = f"uuid:{uuid.uuid4()}"
    message(post(client, officer, household_xml(original)))
    household_id = original.removeprefix("uuid:")
    # Meanwhile a manager changes the note through the JSON API.
    make_user("quanly", "manager")
    auth = token(client, "quanly", "pc")
    server = current(household_id).data
    answer = client.post("/api/v1/sync/push", headers=bearer(auth), json={
        "device_id": "pc", "batch_id": "b1", "households": [{**server, "base_revision": 1, "note": "đã kiểm tra"}]})
    assert answer.get_json()["results"][0]["result"] == "updated"
    edit = f"uuid:{uuid.uuid4()}"
    text = message(post(client, officer, household_xml(edit, deprecated=original, members="7")))
    assert text.startswith("Đã gộp")
    row = current(household_id)
    assert (row.revision, row.data["members"], row.data["note"]) == (3, 7, "đã kiểm tra")
    assert row.base_revision == 1


def test_an_edit_arriving_first_is_held_then_applied(client, officer: str) -> None:
    original, edit = f"uuid:{uuid.uuid4()}", f"uuid:{uuid.uuid4()}"
    household_id = original.removeprefix("uuid:")
    held = message(post(client, officer, household_xml(edit, deprecated=original, members="8")))
    assert "giữ lại" in held
    assert current(household_id) is None
    assert "giữ lại" in message(post(client, officer, household_xml(edit, deprecated=original, members="8")))
    message(post(client, officer, household_xml(original)))
    row = current(household_id)
    assert (row.revision, row.data["members"]) == (2, 8)
    db.session.expire_all()
    assert db.session.get(OpenRosaSubmission, edit).state == "complete"


def test_an_update_from_the_household_list_uses_its_version_as_base(client, officer: str) -> None:
    registration = f"uuid:{uuid.uuid4()}"
    message(post(client, officer, household_xml(
        registration, status="started", status_rank="3", completed_on="",
        funding=[("central_budget", "60000000")])))
    household_id = registration.removeprefix("uuid:")
    files = {"xong.jpg": photo(3)}
    text = message(post(client, officer, update_xml(household_id, 1, photos=[("xong.jpg", "after")]), files))
    assert text.startswith("Đã cập nhật hộ Lò Văn Việt (phiên bản 2)")
    row = current(household_id)
    assert row.data["status"] == "completed" and row.data["status_dates"]["completed"] == "2025-04-09"
    assert row.data["funding"] == [{"source": "central_budget", "amount_vnd": 60000000},
                                   {"source": "local_budget", "amount_vnd": 5000000}]
    assert row.data["photos"][0]["stage"] == "after" and row.base_revision == 1
