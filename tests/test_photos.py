"""PUT/HEAD/PATCH/GET /api/v1/photos/<sha256> through the test client."""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select

from tests.helpers import json_error as _error
from tests.sync_support import bearer, household, image_bytes, load_communes, make_user, one, push, token
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.households.models import Photo
from tracker.photos import service


@pytest.fixture
def auth(app: Flask, client, tmp_path: Path) -> str:
    load_communes(tmp_path)
    make_user("officer", "commune_officer", ["90001"])
    return token(client, "officer")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put(client, auth: str, data: bytes, name: str | None = None, content_type: str = "image/jpeg"):
    return client.put(f"/api/v1/photos/{name or sha(data)}", data=data, content_type=content_type,
                      headers=bearer(auth))


def patch(client, auth: str, name: str, data: bytes, offset: int, length: int | None = None, **extra):
    headers = {**bearer(auth), "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset), **extra}
    if length is not None:
        headers["Upload-Length"] = str(length)
    return client.patch(f"/api/v1/photos/{name}", data=data, headers=headers,
                        content_type="application/offset+octet-stream")




@pytest.mark.parametrize("fmt, mime", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")])
def test_put_stores_a_real_image_with_thumbnail(app: Flask, client, auth: str, fmt: str, mime: str) -> None:
    data = image_bytes(fmt, size=(800, 600))
    response = put(client, auth, data)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["sha256"], body["size_bytes"], body["content_type"]) == (sha(data), len(data), mime)
    assert (body["width"], body["height"]) == (800, 600)
    store = service.storage()
    assert store.read(sha(data)) == data
    with store.open_thumbnail(sha(data)) as handle, Image.open(handle) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == 320
    assert not store.all_uploads()  # nothing half-written left behind
    fetched = client.get(f"/api/v1/photos/{sha(data)}", headers=bearer(auth))
    assert fetched.status_code == 200 and fetched.data == data and fetched.mimetype == mime
    thumb = client.get(f"/api/v1/photos/{sha(data)}/thumbnail", headers=bearer(auth))
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"


def test_a_missing_thumbnail_is_made_when_asked_for(app: Flask, client, auth: str) -> None:
    """A server killed between a photo's 201 and its thumbnail job leaves none: the next request makes it."""
    data = image_bytes(size=(800, 600))
    assert put(client, auth, data).status_code == 201
    path = service.storage().local_thumbnail_path(sha(data))
    path.unlink()
    thumb = client.get(f"/api/v1/photos/{sha(data)}/thumbnail", headers=bearer(auth))
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(thumb.data)) as image:
        assert image.format == "JPEG" and max(image.size) == 320
    assert path.is_file()


def test_put_is_idempotent(client, auth: str) -> None:
    data = image_bytes()
    assert put(client, auth, data).status_code == 201
    again = put(client, auth, data)
    assert again.status_code == 200 and again.get_json()["sha256"] == sha(data)
    assert db.session.scalar(select(Photo).where(Photo.sha256 == sha(data))) is not None
    assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "photo.store")).all()) == 1


def test_exif_gps_and_time_are_stored(client, auth: str) -> None:
    data = image_bytes(exif=True)
    body = put(client, auth, data).get_json()
    assert body["exif"]["lat"] == pytest.approx(21.3312, abs=1e-4)
    assert body["exif"]["lon"] == pytest.approx(103.9104, abs=1e-4)
    assert body["exif"]["taken_at"] == "2025-02-10T09:12:00"
    photo = db.session.get(Photo, sha(data))
    assert photo.exif_lat == pytest.approx(21.3312, abs=1e-4)


def test_bytes_not_matching_the_hash_are_refused(app: Flask, client, auth: str) -> None:
    data = image_bytes()
    wrong = "0" * 64
    error = _error(put(client, auth, data, name=wrong), 422, "hash_mismatch")
    assert sha(data) in error["fields"]["sha256"][0]
    assert db.session.get(Photo, wrong) is None
    store = service.storage()
    assert not store.exists(wrong) and not store.all_uploads()


def test_non_image_is_refused_even_with_an_image_header(client, auth: str) -> None:
    fake = b"\xff\xd8\xff\xe0" + b"JFIF\x00" + b"not really a jpeg" * 50
    _error(put(client, auth, fake), 422, "not_an_image")
    _error(put(client, auth, b"%PDF-1.4 a document"), 422, "not_an_image")
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    _error(put(client, auth, gif.getvalue(), content_type="image/gif"), 422, "not_an_image")


def test_truncated_image_is_refused(client, auth: str) -> None:
    data = image_bytes(size=(400, 300))
    _error(put(client, auth, data[: len(data) // 2]), 422, "not_an_image")


def test_pixel_bomb_is_refused(client, auth: str) -> None:
    bomb = io.BytesIO()
    Image.new("1", (9000, 9000)).save(bomb, format="PNG")  # 81 million pixels in a few kilobytes
    data = bomb.getvalue()
    assert len(data) < 100_000
    error = _error(put(client, auth, data, content_type="image/png"), 422, "too_many_pixels")
    assert "9000" in error["message"]


def test_pixel_limit_is_configurable(app: Flask, client, auth: str) -> None:
    app.config["PHOTO_MAX_PIXELS"] = 100 * 100
    _error(put(client, auth, image_bytes(size=(101, 100))), 422, "too_many_pixels")
    assert put(client, auth, image_bytes(size=(100, 100))).status_code == 201


def test_oversized_photo_is_413(app: Flask, client, auth: str) -> None:
    app.config["PHOTO_MAX_BYTES"] = 1000
    data = image_bytes(size=(200, 200))
    assert len(data) > 1000
    _error(put(client, auth, data), 413, "payload_too_large")


def test_photo_larger_than_the_json_body_limit_is_accepted(app: Flask, client, auth: str) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    data = image_bytes(size=(200, 200))
    assert put(client, auth, data).status_code == 201


def test_upload_cut_off_then_resumed_with_patch(app: Flask, client, auth: str) -> None:
    data = image_bytes(size=(300, 300))
    name, half = sha(data), len(data) // 2
    # The body stops half-way although Content-Length announced all of it.
    cut = client.put(f"/api/v1/photos/{name}", input_stream=io.BytesIO(data[:half]), content_type="image/jpeg",
                     headers=bearer(auth), environ_overrides={"CONTENT_LENGTH": str(len(data))})
    _error(cut, 400, "upload_incomplete")
    head = client.head(f"/api/v1/photos/{name}", headers=bearer(auth))
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == str(half)
    assert head.headers["Upload-Length"] == str(len(data))
    assert head.headers["Tus-Resumable"] == "1.0.0"
    assert db.session.get(Photo, name) is None
    wrong = patch(client, auth, name, data[half:], offset=0)
    _error(wrong, 409, "offset_mismatch")
    assert wrong.headers["Upload-Offset"] == str(half)
    done = patch(client, auth, name, data[half:], offset=half)
    assert done.status_code == 204, done.get_data(as_text=True)
    assert done.headers["Upload-Offset"] == str(len(data))
    stored = db.session.get(Photo, name)
    assert stored is not None and stored.size_bytes == len(data)
    assert service.storage().read(name) == data
    assert not service.storage().all_uploads()
    head = client.head(f"/api/v1/photos/{name}", headers=bearer(auth))
    assert head.headers["Upload-Offset"] == head.headers["Upload-Length"] == str(len(data))


def test_tus_upload_in_pieces_from_nothing(client, auth: str) -> None:
    data = image_bytes(size=(200, 200))
    name = sha(data)
    assert client.head(f"/api/v1/photos/{name}", headers=bearer(auth)).status_code == 404
    _error(patch(client, auth, name, data[:100], offset=0), 400, "length_required")
    third = len(data) // 3
    response = patch(client, auth, name, data[:third], offset=0, length=len(data))
    assert response.status_code == 204 and response.headers["Upload-Offset"] == str(third)
    response = patch(client, auth, name, data[third:2 * third], offset=third)
    assert response.headers["Upload-Offset"] == str(2 * third)
    assert db.session.get(Photo, name) is None
    response = patch(client, auth, name, data[2 * third:], offset=2 * third)
    assert response.status_code == 204 and response.headers["Upload-Offset"] == str(len(data))
    assert db.session.get(Photo, name) is not None


def test_resumed_upload_with_wrong_bytes_fails_the_hash(app: Flask, client, auth: str) -> None:
    data = image_bytes(size=(200, 200))
    name, half = sha(data), len(data) // 2
    patch(client, auth, name, data[:half], offset=0, length=len(data))
    tampered = bytes(b ^ 0xFF for b in data[half:])
    _error(patch(client, auth, name, tampered, offset=half), 422, "hash_mismatch")
    assert client.head(f"/api/v1/photos/{name}", headers=bearer(auth)).status_code == 404  # start again


def test_patch_protocol_errors(client, auth: str) -> None:
    name = "ab" * 32
    no_tus = client.patch(f"/api/v1/photos/{name}", data=b"x", content_type="application/offset+octet-stream",
                          headers={**bearer(auth), "Upload-Offset": "0", "Upload-Length": "1"})
    _error(no_tus, 412, "precondition_failed")
    assert no_tus.headers["Tus-Version"] == "1.0.0"
    wrong_type = client.patch(f"/api/v1/photos/{name}", data=b"x", content_type="image/jpeg",
                              headers={**bearer(auth), "Tus-Resumable": "1.0.0", "Upload-Offset": "0"})
    _error(wrong_type, 415)
    _error(patch(client, auth, name, b"x", offset=0, length=10**12), 413)
    bad_offset = client.patch(f"/api/v1/photos/{name}", data=b"x", content_type="application/offset+octet-stream",
                              headers={**bearer(auth), "Tus-Resumable": "1.0.0", "Upload-Offset": "-1"})
    _error(bad_offset, 400)


def test_options_advertises_tus(client, app: Flask) -> None:
    response = client.options("/api/v1/photos/" + "a" * 64)
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.headers["Tus-Max-Size"] == str(app.config["PHOTO_MAX_BYTES"])
    assert {"PUT", "PATCH", "HEAD", "GET"} <= set(response.headers["Allow"].split(", "))


def test_photo_names_and_auth(client, auth: str, app: Flask) -> None:
    _error(client.put("/api/v1/photos/" + "A" * 64, data=b"x", headers=bearer(auth)), 404)
    _error(client.put("/api/v1/photos/abc", data=b"x", headers=bearer(auth)), 404)
    _error(client.put("/api/v1/photos/" + "a" * 64, data=b"x"), 401)
    make_user("watcher", "viewer", ["90001"])
    viewer = token(client, "watcher", device="desk")
    _error(put(client, viewer, image_bytes()), 403)
    _error(client.get("/api/v1/photos/" + "a" * 64, headers=bearer(auth)), 404)


def test_push_then_upload_clears_missing_photos(client, auth: str) -> None:
    data = image_bytes()
    record = household(photos=[{"sha256": sha(data), "stage": "before", "taken_at": "2025-01-05T08:00:00+07:00"}])
    assert one(push(client, auth, [record]))["missing_photos"] == [sha(data)]
    put(client, auth, data)
    assert one(push(client, auth, [record]))["missing_photos"] == []
