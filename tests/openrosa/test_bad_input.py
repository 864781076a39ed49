"""Bad input to the OpenRosa server: a precise OpenRosa error, the right status, nothing half-stored."""
from __future__ import annotations

import io
import uuid
from pathlib import Path
from xml.etree import ElementTree

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.openrosa.support import NS, basic, enrolled, household_xml, photo, post
from tests.sync_support import COMMUNE_1, COMMUNE_2, INSIDE_2, load_communes, make_user
from tracker.accounts.service import AccountError, revoke_device
from tracker.extensions import db
from tracker.households.models import HouseholdRevision, Photo
from tracker.openrosa import enrol
from tracker.openrosa.models import OpenRosaSubmission


@pytest.fixture
def officer(app: Flask, tmp_path: Path) -> str:
    load_communes(tmp_path)
    make_user("canbo", "commune_officer", [COMMUNE_1])
    return enrolled("canbo")


def refused(response, status: int) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["X-OpenRosa-Version"] == "1.0" and response.mimetype == "text/xml"
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "<html" not in body.lower()
    element = ElementTree.fromstring(response.data).find("r:message", NS)
    assert element.get("nature") == "error"
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(HouseholdRevision)) == 0
    return element.text


def test_malformed_xml(client, officer: str) -> None:
    assert "không phải XML" in refused(post(client, officer, b"<household><oops></household>"), 400)


def test_doctype_and_entity_expansion_are_refused_before_expanding(client, officer: str) -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            b"<household><household_head>&lol2;</household_head></household>")
    assert "DOCTYPE" in refused(post(client, officer, bomb), 400)
    external = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                b"<household>&e;</household>")
    assert "DOCTYPE" in refused(post(client, officer, external), 400)


def test_a_huge_body_is_413(app: Flask, client, officer: str) -> None:
    app.config["OPENROSA_MAX_BODY_BYTES"] = 200_000
    assert refused(post(client, officer, household_xml(), {"a.jpg": b"\xff\xd8\xff" + b"0" * 300_000}), 413)


def test_unknown_form_and_retired_version(client, officer: str) -> None:
    other = household_xml().replace(b'id="household"', b'id="survey_2019"')
    assert "survey_2019" in refused(post(client, officer, other), 404)
    assert "đã cũ" in refused(post(client, officer, household_xml(version="2019010101")), 409)


def test_a_field_the_form_does_not_have(client, officer: str) -> None:
    text = refused(post(client, officer, household_xml(extra="<salary>100</salary>")), 400)
    assert "salary" in text


def test_a_non_image_attachment_and_one_not_named_in_the_xml(client, officer: str) -> None:
    xml = household_xml(photos=[("a.jpg", "before")])
    assert "không phải ảnh" in refused(post(client, officer, xml, {"a.jpg": b"%PDF-1.4 not an image"}), 400)
    assert "không có tên" in refused(post(client, officer, xml, {"b.jpg": photo()}), 400)
    # A file that looks like a JPEG but does not decode is checked exactly as the photo API does.
    assert "a.jpg" in refused(post(client, officer, xml, {"a.jpg": b"\xff\xd8\xff\xe0" + b"\x00" * 100}), 400)
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 0


def test_an_attachment_over_the_limit(app: Flask, client, officer: str) -> None:
    app.config["PHOTO_MAX_BYTES"] = 1000
    xml = household_xml(photos=[("a.jpg", "before")])
    assert "a.jpg" in refused(post(client, officer, xml, {"a.jpg": photo(400)}), 413)


def test_a_commune_outside_the_officers_scope_is_403_and_kept_as_a_reason(client, officer: str) -> None:
    instance = f"uuid:{uuid.uuid4()}"
    location = f"{INSIDE_2['lat']} {INSIDE_2['lon']} 0 8"
    text = refused(post(client, officer, household_xml(instance, declared_commune=COMMUNE_2, location=location)), 403)
    assert text.startswith("Phiếu bị từ chối")
    row = db.session.get(OpenRosaSubmission, instance)
    assert row.state == "rejected" and "declared_commune" in row.errors


def test_an_invalid_record_names_the_field_in_vietnamese(client, officer: str) -> None:
    text = refused(post(client, officer, household_xml(national_id="12345")), 400)
    assert "số CCCD" in text


def test_a_revoked_key_stops_submissions_at_once(client, officer: str) -> None:
    revoke_device("phone-a")
    db.session.commit()
    assert refused(post(client, officer, household_xml()), 401)


def test_not_multipart_and_missing_xml_part(client, officer: str) -> None:
    assert refused(client.post(f"{officer}/submission", data=household_xml(), content_type="text/xml"), 400)
    response = client.post(f"{officer}/submission", data={"a.jpg": (io.BytesIO(photo()), "a.jpg")},
                           content_type="multipart/form-data")
    assert "xml_submission_file" in refused(response, 400)


def test_viewer_may_not_submit_nor_be_enrolled(client, officer: str) -> None:
    make_user("xem", "viewer", [COMMUNE_1])
    with pytest.raises(AccountError):
        enrol.enrol("xem", "http://localhost", "v")
    assert "chỉ được xem" in refused(post(client, "/openrosa", household_xml(), headers=basic("xem")), 403)
