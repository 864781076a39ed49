"""The published forms, the form list, form download, manifest and media (OpenRosa discovery)."""
from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path
from xml.etree import ElementTree

import pytest
from flask import Flask

from tests.openrosa.support import NS, basic, enrolled, household_xml, post
from tests.sync_support import COMMUNE_1, COMMUNE_2, household, load_communes, make_user, push, token
from tracker.accounts.service import revoke_device
from tracker.extensions import db
from tracker.openrosa import forms


@pytest.fixture
def officer(app: Flask, tmp_path: Path) -> str:
    load_communes(tmp_path)
    make_user("canbo", "commune_officer", [COMMUNE_1])
    return enrolled("canbo")


def _xml(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    return ElementTree.fromstring(response.data)


def _error(response, status: int) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert response.mimetype == "text/xml"
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "<html" not in body.lower()
    return ElementTree.fromstring(response.data).find("r:message", NS).text


def test_form_list_names_both_forms_with_md5_of_the_file_served(client, officer: str) -> None:
    root = _xml(client.get(f"{officer}/formList"))
    listed = {x.findtext("f:formID", namespaces=NS): x for x in root.findall("f:xform", NS)}
    assert set(listed) == {"household", "household_update"}
    for form_id, item in listed.items():
        download = client.get(item.findtext("f:downloadUrl", namespaces=NS).removeprefix("http://localhost"))
        assert download.status_code == 200 and download.headers["X-OpenRosa-Version"] == "1.0"
        assert item.findtext("f:hash", namespaces=NS) == "md5:" + hashlib.md5(download.data).hexdigest()
        assert item.findtext("f:version", namespaces=NS) == forms.published(form_id).version
        assert "/openrosa/key/" in item.findtext("f:manifestUrl", namespaces=NS)
        assert b'xml:lang' not in download.data[:0]  # the XForm itself
        assert "Tiếng Việt (vi)".encode() in download.data and b"English (en)" in download.data


def test_version_follows_the_xlsform_source() -> None:
    source = forms.source_path("household").read_text(encoding="utf-8")
    assert forms.published("household").version == forms.version_of(source)
    assert forms.version_of(source + "\n") != forms.version_of(source)


def test_household_form_carries_every_field_of_the_record() -> None:
    paths = forms.published("household").paths
    for name in ("household_head", "ethnicity", "category", "members", "national_id", "village",
                 "declared_commune", "support_type", "status", "approved_on", "withdrawn_on", "funding/source",
                 "funding/amount_vnd", "location", "photo/stage", "photo/file", "note", "meta/instanceID"):
        assert name in paths
    xml = forms.published("household").xml.decode()
    assert "max-pixels" in xml and "1600" in xml
    assert "regex(., '^[0-9]{12}$')" in xml
    ethnic = forms.published("household").choice_labels["ethnicity"]
    assert len(ethnic) == 55 and ethnic["hmong"] == "H'Mông" and ethnic["thai"] == "Thái"


def _media(client, officer: str, form_id: str) -> dict[str, tuple[str, bytes]]:
    root = _xml(client.get(f"{officer}/forms/{form_id}/manifest"))
    out = {}
    for item in root.findall("m:mediaFile", NS):
        body = client.get(item.findtext("m:downloadUrl", namespaces=NS).removeprefix("http://localhost"))
        assert body.status_code == 200
        assert item.findtext("m:hash", namespaces=NS) == "md5:" + hashlib.md5(body.data).hexdigest()
        out[item.findtext("m:filename", namespaces=NS)] = (item.findtext("m:hash", namespaces=NS), body.data)
    return out


def test_media_are_the_officers_own_and_change_hash_with_the_data(client, officer: str) -> None:
    communes = _media(client, officer, "household")["communes.csv"][1].decode()
    assert list(csv.reader(io.StringIO(communes))) == [["name", "label"], [COMMUNE_1, "Xã Một"]]
    first_hash, first = _media(client, officer, "household_update")["households.csv"]
    assert first.decode().strip() == "name,label,__version,status"
    auth = token(client, "canbo")
    mine, theirs = household(), household(declared_commune=COMMUNE_2, location={"lat": 21.05, "lon": 104.15,
                                                                                "accuracy_m": 8.0})
    no_village = household(household_head="Cầm Thị Ánh", village="", status="started",
                           status_dates={"approved": "2025-01-20", "started": "2025-02-10"})
    make_user("quanly", "manager")
    assert push(client, token(client, "quanly", "pc"), [mine, theirs, no_village], device="pc").status_code == 200
    second_hash, second = _media(client, officer, "household_update")["households.csv"]
    rows = list(csv.DictReader(io.StringIO(second.decode())))
    assert second_hash != first_hash
    assert [(r["name"], r["__version"], r["status"]) for r in rows] == [
        (no_village["id"], "1", "started"), (mine["id"], "1", "completed")]  # by the head's name
    assert [r["label"] for r in rows] == ["Cầm Thị Ánh (đã khởi công)", "Lò Văn Việt — Bản Lan Quynh (đã hoàn thành)"]
    assert auth


def test_basic_auth_works_and_asks_for_credentials(client, officer: str) -> None:
    challenge = client.get("/openrosa/formList")
    assert _error(challenge, 401)
    assert challenge.headers["WWW-Authenticate"].startswith("Basic")
    assert _error(client.get("/openrosa/formList", headers=basic("canbo", "sai-mat-khau")), 401)
    root = _xml(client.get("/openrosa/formList", headers=basic("canbo")))
    urls = [x.findtext("f:downloadUrl", namespaces=NS) for x in root.findall("f:xform", NS)]
    assert urls and all(u.startswith("http://localhost/openrosa/forms/") for u in urls)


def test_revoked_or_unknown_key_is_refused_at_once(client, officer: str) -> None:
    assert _error(client.get("/openrosa/key/not-a-key/formList"), 401)
    assert revoke_device("phone-a", "canbo") == 1
    db.session.commit()
    assert "thu hồi" in _error(client.get(f"{officer}/formList"), 401)
    assert _error(post(client, officer, household_xml()), 401)


def test_every_answer_is_openrosa_even_unknown_paths(client, officer: str) -> None:
    assert _error(client.get(f"{officer}/forms/nope/form.xml"), 404)
    assert _error(client.get(f"{officer}/forms/household/media/secret.csv"), 404)
    assert _error(client.get("/openrosa/key/x/nowhere"), 404)
    head = client.head(f"{officer}/submission")
    assert head.status_code == 204 and head.headers["X-OpenRosa-Version"] == "1.0"
    assert int(head.headers["X-OpenRosa-Accept-Content-Length"]) == 10_000_000
    assert "Content-Type" not in head.headers, "a 204 has no body, so no type"


def test_viewers_get_no_forms(client, officer: str) -> None:
    make_user("xem", "viewer", [COMMUNE_1])
    root = _xml(client.get("/openrosa/formList", headers=basic("xem")))
    assert root.findall("f:xform", NS) == []
