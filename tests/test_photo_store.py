"""The same photo behaviour on both stores: the local folder and an S3-compatible server.

The S3 leg runs against moto's standalone server on loopback (real HTTP, the
S3 REST protocol, boto3 as in production).
"""
from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image

from tests.helpers import json_error as _error
from tests.storage_support import MotoServer, moto_fixture  # noqa: F401 (the fixture)
from tests.sync_support import COMMUNE_1, bearer, image_bytes, load_communes, make_user, token
from tracker.app import create_app
from tracker.extensions import db
from tracker.households.models import Photo
from tracker.photos import service


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, app: Flask) -> Iterator[str]:
    if request.param == "s3":
        server: MotoServer = request.getfixturevalue("moto")
        app.config.update(server.settings(server.new_bucket()))
    yield request.param


@pytest.fixture
def auth(app: Flask, client, tmp_path: Path, store: str) -> str:
    load_communes(tmp_path)
    make_user("officer", "commune_officer", [COMMUNE_1])
    return token(client, "officer")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def patch(client, auth: str, name: str, data: bytes, offset: int, length: int | None = None):
    headers = {**bearer(auth), "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset)}
    if length is not None:
        headers["Upload-Length"] = str(length)
    return client.patch(f"/api/v1/photos/{name}", data=data, headers=headers,
                        content_type="application/offset+octet-stream")


def cut_put(client, auth: str, data: bytes, send: int):
    return client.put(f"/api/v1/photos/{sha(data)}", input_stream=io.BytesIO(data[:send]), content_type="image/jpeg",
                      headers=bearer(auth), environ_overrides={"CONTENT_LENGTH": str(len(data))})


def test_photo_and_thumbnail_are_stored_and_served(app: Flask, client, auth: str, moto: MotoServer,
                                                   store: str) -> None:
    data = image_bytes(size=(640, 480), exif=True)
    name = sha(data)
    answer = client.put(f"/api/v1/photos/{name}", data=data, headers=bearer(auth), content_type="image/jpeg")
    assert answer.status_code == 201 and answer.get_json()["width"] == 640
    fetched = client.get(f"/api/v1/photos/{name}", headers=bearer(auth))
    assert fetched.status_code == 200 and fetched.data == data and fetched.headers["ETag"] == f'"{name}"'
    thumb = client.get(f"/api/v1/photos/{name}/thumbnail", headers=bearer(auth))
    with Image.open(io.BytesIO(thumb.data)) as image:
        assert image.format == "JPEG" and image.size == (320, 240)
    expected = [f"{name[:2]}/{name[2:4]}/{name}", f"thumbs/{name[:2]}/{name}.jpg"]
    if store == "s3":
        assert moto.keys(app.config["S3_BUCKET"]) == expected
        assert not list(Path(app.config["PHOTO_DIR"]).rglob("*.*"))  # nothing on the app server's disk
    else:
        assert sorted(p.relative_to(app.config["PHOTO_DIR"]).as_posix()
                      for p in Path(app.config["PHOTO_DIR"]).rglob("*") if p.is_file()) == expected


def test_cut_off_upload_resumes_and_checks_the_hash(app: Flask, client, auth: str, store: str) -> None:
    data = image_bytes(size=(400, 300))
    name, half = sha(data), len(data) // 2
    _error(cut_put(client, auth, data, half), 400, "upload_incomplete")
    head = client.head(f"/api/v1/photos/{name}", headers=bearer(auth))
    assert (head.headers["Upload-Offset"], head.headers["Upload-Length"]) == (str(half), str(len(data)))
    tampered = bytes(b ^ 0xFF for b in data[half:])
    _error(patch(client, auth, name, tampered, offset=half), 422, "hash_mismatch")
    assert client.head(f"/api/v1/photos/{name}", headers=bearer(auth)).status_code == 404  # starts again
    _error(cut_put(client, auth, data, half), 400, "upload_incomplete")
    done = patch(client, auth, name, data[half:], offset=half)
    assert done.status_code == 204 and done.headers["Upload-Offset"] == str(len(data))
    assert service.storage().read(name) == data and not service.storage().all_uploads()
    assert db.session.get(Photo, name).size_bytes == len(data)


def test_abandoned_uploads_are_pruned_from_the_store(app: Flask, client, auth: str, runner, store: str) -> None:
    data = image_bytes(size=(200, 200))
    patch(client, auth, sha(data), data[:1000], offset=0, length=len(data))
    assert len(service.storage().all_uploads()) == 1
    result = runner.invoke(args=["photos", "prune", "--idle-minutes", "0"])
    assert result.exit_code == 0 and "1 abandoned uploads (1000 bytes)" in result.output, result.output
    assert service.storage().all_uploads() == []


def test_backup_covers_the_store(app: Flask, client, auth: str, runner, tmp_path: Path, store: str) -> None:
    photos = [image_bytes(size=(100 + i, 80)) for i in range(2)]
    for data in photos:
        assert client.put(f"/api/v1/photos/{sha(data)}", data=data, headers=bearer(auth),
                          content_type="image/jpeg").status_code == 201
    patch(client, auth, sha(image_bytes()), b"x" * 10, offset=0, length=100)  # in progress: not backed up
    archive = tmp_path / "backup.tar.gz"
    result = runner.invoke(args=["backup", "create", str(archive)])
    assert result.exit_code == 0 and "2 photos" in result.output, result.output
    blobs = service.storage().blobs
    blobs.delete([f"{sha(photos[0])[:2]}/{sha(photos[0])[2:4]}/{sha(photos[0])}"])
    assert not service.storage().exists(sha(photos[0]))
    result = runner.invoke(args=["backup", "restore", str(archive), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert [service.storage().read(sha(d)) for d in photos] == photos


def test_an_upload_started_on_one_server_resumes_on_another(app: Flask, client, auth: str, moto: MotoServer,
                                                            tmp_path: Path, store: str) -> None:
    if store == "local":
        pytest.skip("separate local folders share nothing: servers behind one proxy use the S3 store")
    other = create_app({**{k: app.config[k] for k in ("TESTING", "ENV_NAME", "SQLALCHEMY_DATABASE_URI")},
                        "INSTANCE_DIR": str(tmp_path / "other"), "PHOTO_DIR": str(tmp_path / "other" / "photos"),
                        **moto.settings(app.config["S3_BUCKET"])})
    data = image_bytes(size=(500, 400))
    name, third = sha(data), len(data) // 3
    _error(cut_put(client, auth, data, third), 400, "upload_incomplete")
    with other.app_context():
        there = other.test_client()
        head = there.head(f"/api/v1/photos/{name}", headers=bearer(auth))
        assert head.headers["Upload-Offset"] == str(third)
        assert patch(there, auth, name, data[third:2 * third], offset=third).status_code == 204
        db.session.remove()
    assert client.head(f"/api/v1/photos/{name}", headers=bearer(auth)).headers["Upload-Offset"] == str(2 * third)
    done = patch(client, auth, name, data[2 * third:], offset=2 * third)
    assert done.status_code == 204 and done.headers["Upload-Offset"] == str(len(data))
    with other.app_context():
        fetched = other.test_client().get(f"/api/v1/photos/{name}", headers=bearer(auth))
        assert fetched.status_code == 200 and fetched.data == data
        db.session.remove()
        db.engine.dispose()


def test_store_down_is_503_with_retry_after_and_nothing_acknowledged(app: Flask, client, auth: str,
                                                                       store: str, moto: MotoServer) -> None:
    if store == "local":
        pytest.skip("a local folder is never 'down'")
    kept = image_bytes(size=(120, 90))
    assert client.put(f"/api/v1/photos/{sha(kept)}", data=kept, headers=bearer(auth),
                      content_type="image/jpeg").status_code == 201
    working = app.config["S3_ENDPOINT_URL"]
    app.config["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{_closed_port()}"
    data = image_bytes(size=(150, 100))
    calls = [
        lambda: client.put(f"/api/v1/photos/{sha(data)}", data=data, headers=bearer(auth), content_type="image/jpeg"),
        lambda: patch(client, auth, sha(data), data[:100], offset=0, length=len(data)),
        lambda: client.get(f"/api/v1/photos/{sha(kept)}", headers=bearer(auth)),
        lambda: client.get(f"/api/v1/photos/{sha(kept)}/thumbnail", headers=bearer(auth)),
    ]
    for call in calls:
        answer = call()
        _error(answer, 503, "store_unavailable")
        assert answer.headers["Retry-After"] == "30"
    head = client.head(f"/api/v1/photos/{sha(data)}", headers=bearer(auth))
    assert head.status_code == 503 and head.headers["Retry-After"] == "30"
    assert db.session.get(Photo, sha(data)) is None  # not acknowledged, not recorded
    app.config["S3_ENDPOINT_URL"] = working
    answer = client.put(f"/api/v1/photos/{sha(data)}", data=data, headers=bearer(auth), content_type="image/jpeg")
    assert answer.status_code == 201 and service.storage().read(sha(data)) == data


def _closed_port() -> int:
    from tests.sync_support import free_port

    return free_port()
