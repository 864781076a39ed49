"""Resumable uploads that keep their word, and photos a writer has no business with.

Strict ``Upload-Offset``/``Upload-Length``, a declared length that cannot
change under what is held, abandoned uploads pruned after a configurable
idle time, and no answer that tells a writer about a photo outside their
scope (``PUT`` of a known hash, ``HEAD``, ``PATCH``).
"""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest
from flask import Flask

from tests.helpers import json_error as _error
from tests.sync_support import (
    COMMUNE_1,
    COMMUNE_2,
    INSIDE_2,
    bearer,
    household,
    image_bytes,
    load_communes,
    make_user,
    one,
    push,
    token,
)
from tracker.extensions import db
from tracker.households.models import Photo
from tracker.photos import service

NOT_ASCII_DIGITS = ["²", "¹0", "1²", "+5", " 5", "5 ", "0x10", "1e3", "5.0", "-1", ""]


@pytest.fixture
def tokens(app: Flask, client, tmp_path: Path) -> dict[str, str]:
    load_communes(tmp_path)
    make_user("one", "commune_officer", [COMMUNE_1])
    make_user("two", "commune_officer", [COMMUNE_2])
    make_user("boss", "manager")
    return {name: token(client, name, device=f"phone-{name}") for name in ("one", "two", "boss")}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def patch(client, auth: str, name: str, data: bytes, offset: int | str, length: int | str | None = None):
    headers = {**bearer(auth), "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset)}
    if length is not None:
        headers["Upload-Length"] = str(length)
    return client.patch(f"/api/v1/photos/{name}", data=data, headers=headers,
                        content_type="application/offset+octet-stream")


def head(client, auth: str, name: str):
    return client.head(f"/api/v1/photos/{name}", headers=bearer(auth))


@pytest.mark.parametrize("raw", NOT_ASCII_DIGITS)
def test_upload_offset_must_be_ascii_digits(client, tokens: dict[str, str], raw: str) -> None:
    error = _error(patch(client, tokens["one"], "ab" * 32, b"x", offset=raw, length=1), 400)
    assert "Upload-Offset" in error["fields"]


@pytest.mark.parametrize("raw", NOT_ASCII_DIGITS)
def test_upload_length_must_be_ascii_digits(client, tokens: dict[str, str], raw: str) -> None:
    error = _error(patch(client, tokens["one"], "ab" * 32, b"x", offset=0, length=raw), 400)
    assert "Upload-Length" in error["fields"]


def test_huge_offset_and_length_are_refused_cleanly(client, tokens: dict[str, str]) -> None:
    _error(patch(client, tokens["one"], "ab" * 32, b"x", offset=0, length="9" * 40), 413)
    _error(patch(client, tokens["one"], "ab" * 32, b"x", offset="9" * 40, length=10), 409)


def test_declared_length_cannot_change_under_what_is_held(client, tokens: dict[str, str]) -> None:
    data = image_bytes(size=(200, 200))
    name, half = sha(data), len(data) // 2
    assert patch(client, tokens["one"], name, data[:half], offset=0, length=len(data)).status_code == 204
    for length in (half - 1, half, len(data) - 1, len(data) + 1):
        error = _error(patch(client, tokens["one"], name, data[half:], offset=half, length=length), 400,
                       "length_mismatch")
        assert str(len(data)) in error["message"]
    answer = head(client, tokens["one"], name)  # nothing held was lost
    assert answer.headers["Upload-Offset"] == str(half) and answer.headers["Upload-Length"] == str(len(data))
    done = patch(client, tokens["one"], name, data[half:], offset=half, length=len(data))
    assert done.status_code == 204 and done.headers["Upload-Offset"] == str(len(data))


def test_a_patch_longer_than_the_declared_length_is_413_and_keeps_what_was_held(
        client, tokens: dict[str, str]) -> None:
    data = image_bytes(size=(200, 200))
    name, half = sha(data), len(data) // 2
    patch(client, tokens["one"], name, data[:half], offset=0, length=len(data))
    _error(patch(client, tokens["one"], name, data[half:] + b"extra", offset=half), 413)
    assert head(client, tokens["one"], name).headers["Upload-Offset"] == str(half)


def test_many_small_pieces_still_make_the_photo(app: Flask, client, tokens: dict[str, str]) -> None:
    data = image_bytes(size=(120, 100))
    name, step = sha(data), max(1, len(data) // 80)
    offset = 0
    while offset < len(data):
        answer = patch(client, tokens["one"], name, data[offset:offset + step], offset=offset, length=len(data))
        assert answer.status_code == 204, answer.get_json()
        offset = int(answer.headers["Upload-Offset"])
    assert db.session.get(Photo, name).size_bytes == len(data)
    assert service.storage().read(name) == data


# --- abandoned uploads ------------------------------------------------------------------------


def test_abandoned_upload_is_pruned_and_logged(app: Flask, client, tokens: dict[str, str], runner,
                                               caplog: pytest.LogCaptureFixture) -> None:
    kept, abandoned = image_bytes(size=(90, 90)), image_bytes(size=(100, 100))
    patch(client, tokens["one"], sha(abandoned), abandoned[:500], offset=0, length=len(abandoned))
    patch(client, tokens["two"], sha(kept), kept[:300], offset=0, length=len(kept))
    result = runner.invoke(args=["photos", "prune"])  # the default idle time keeps both
    assert result.exit_code == 0, result.output
    assert "0 abandoned uploads" in result.output
    assert head(client, tokens["one"], sha(abandoned)).headers["Upload-Offset"] == "500"
    app.config["PHOTO_UPLOAD_IDLE_MINUTES"] = 0
    with caplog.at_level(logging.INFO, logger="tracker.photos"):
        result = runner.invoke(args=["photos", "prune"])
    assert result.exit_code == 0, result.output
    assert "2 abandoned uploads" in result.output and "800 bytes" in result.output
    assert any(sha(abandoned) in r.getMessage() and "500 bytes" in r.getMessage() for r in caplog.records)
    assert head(client, tokens["one"], sha(abandoned)).status_code == 404
    assert not list(Path(app.config["PHOTO_DIR"]).glob("partial/**/*.*"))  # no file left on disk either


def test_uploads_are_pruned_while_the_server_works(app: Flask, client, tokens: dict[str, str],
                                                   caplog: pytest.LogCaptureFixture) -> None:
    abandoned = image_bytes(size=(100, 100))
    patch(client, tokens["one"], sha(abandoned), abandoned[:500], offset=0, length=len(abandoned))
    app.config["PHOTO_UPLOAD_IDLE_MINUTES"] = 0
    other = image_bytes(size=(80, 80))
    with caplog.at_level(logging.INFO, logger="tracker.photos"):
        assert client.put(f"/api/v1/photos/{sha(other)}", data=other, headers=bearer(tokens["two"]),
                          content_type="image/jpeg").status_code == 201
    assert any("pruned" in r.getMessage() and sha(abandoned) in r.getMessage() for r in caplog.records)
    assert head(client, tokens["one"], sha(abandoned)).status_code == 404


def test_a_failing_prune_does_not_cost_the_upload_that_set_it_off(
        app: Flask, client, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """Pruning runs once the answer is sent: a store that fails it loses the photo nothing."""
    def broken() -> list:
        raise OSError("the upload folder could not be listed")

    monkeypatch.setattr(service.storage(), "all_uploads", broken)
    photo = image_bytes(size=(80, 80))
    with caplog.at_level(logging.ERROR):
        answer = client.put(f"/api/v1/photos/{sha(photo)}", data=photo, headers=bearer(tokens["one"]),
                            content_type="image/jpeg")
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert service.storage().read(sha(photo)) == photo
    assert any("could not be listed" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_one_account_cannot_hold_endless_partial_uploads(app: Flask, client, tokens: dict[str, str]) -> None:
    app.config["PHOTO_MAX_OPEN_UPLOADS"] = 3
    names = [f"{i:064x}" for i in range(1, 5)]
    for name in names[:3]:
        assert patch(client, tokens["one"], name, b"x" * 10, offset=0, length=100).status_code == 204
    _error(patch(client, tokens["one"], names[3], b"x" * 10, offset=0, length=100), 429, "too_many_uploads")
    assert patch(client, tokens["one"], names[0], b"y" * 10, offset=10).status_code == 204  # resuming is fine
    assert patch(client, tokens["two"], names[3], b"x" * 10, offset=0, length=100).status_code == 204


# --- nothing about a photo outside the caller's scope -----------------------------------------


def test_put_of_a_known_hash_tells_an_outsider_nothing(client, tokens: dict[str, str]) -> None:
    data = image_bytes(size=(300, 200), exif=True)
    name = sha(data)
    assert client.put(f"/api/v1/photos/{name}", data=data, headers=bearer(tokens["one"]),
                      content_type="image/jpeg").status_code == 201
    wrong = client.put(f"/api/v1/photos/{name}", data=b"not the photo", headers=bearer(tokens["two"]),
                       content_type="image/jpeg")
    error = _error(wrong, 422, "hash_mismatch")
    text = wrong.get_data(as_text=True)
    assert "300" not in text and "21.33" not in text and str(len(data)) not in text, error
    empty = client.put(f"/api/v1/photos/{name}", data=b"", headers=bearer(tokens["two"]), content_type="image/jpeg")
    assert empty.status_code in (400, 422) and "width" not in empty.get_data(as_text=True)
    # With the real bytes the outsider proves they hold the photo: answered as a new upload.
    proved = client.put(f"/api/v1/photos/{name}", data=data, headers=bearer(tokens["two"]),
                        content_type="image/jpeg")
    assert proved.status_code == 201 and proved.get_json()["sha256"] == name
    again = client.put(f"/api/v1/photos/{name}", data=data, headers=bearer(tokens["one"]), content_type="image/jpeg")
    assert again.status_code == 200 and again.get_json()["width"] == 300  # the uploader's own photo


def test_head_confirms_only_what_the_caller_may_know(client, tokens: dict[str, str]) -> None:
    data, partial = image_bytes(size=(200, 150)), image_bytes(size=(210, 150))
    name = sha(data)
    client.put(f"/api/v1/photos/{name}", data=data, headers=bearer(tokens["one"]), content_type="image/jpeg")
    patch(client, tokens["one"], sha(partial), partial[:700], offset=0, length=len(partial))
    assert head(client, tokens["one"], name).headers["Upload-Offset"] == str(len(data))
    assert head(client, tokens["boss"], name).status_code == 200  # a manager with no area limit sees every photo
    for hidden in (name, sha(partial), "cd" * 32):
        answer = head(client, tokens["two"], hidden)
        assert answer.status_code == 404 and "Upload-Offset" not in answer.headers, hidden
    assert head(client, tokens["one"], sha(partial)).headers["Upload-Offset"] == "700"
    # The outsider's own upload of the same bytes starts from nothing and never sees the other's bytes.
    first = patch(client, tokens["two"], sha(partial), partial[:100], offset=700, length=len(partial))
    _error(first, 409, "offset_mismatch")
    assert first.headers["Upload-Offset"] == "0"
    assert patch(client, tokens["two"], sha(partial), partial, offset=0, length=len(partial)).status_code == 204
    assert head(client, tokens["two"], sha(partial)).headers["Upload-Offset"] == str(len(partial))
    # Both resumable uploads of a known photo end in the one photo.
    tail = patch(client, tokens["one"], sha(partial), partial[700:], offset=700)
    assert tail.status_code == 204 and tail.headers["Upload-Offset"] == str(len(partial))


def test_patch_of_a_known_hash_proves_possession_before_answering(client, tokens: dict[str, str]) -> None:
    data = image_bytes(size=(220, 160))
    name = sha(data)
    client.put(f"/api/v1/photos/{name}", data=data, headers=bearer(tokens["one"]), content_type="image/jpeg")
    half = patch(client, tokens["two"], name, data[:100], offset=0, length=len(data))
    assert half.status_code == 204 and half.headers["Upload-Offset"] == "100"  # not the full size
    _error(patch(client, tokens["two"], name, bytes(len(data) - 100), offset=100), 422, "hash_mismatch")


def test_a_second_uploader_of_the_same_bytes_is_told_the_photo_is_held(client, tokens: dict[str, str]) -> None:
    """Two officers photograph the same document: the second proved they hold it, so no phone uploads it forever."""
    data = image_bytes(size=(260, 180))
    name = sha(data)
    assert client.put(f"/api/v1/photos/{name}", data=data, headers=bearer(tokens["one"]),
                      content_type="image/jpeg").status_code == 201
    resumed = image_bytes(size=(270, 180))
    assert client.put(f"/api/v1/photos/{sha(resumed)}", data=resumed, headers=bearer(tokens["one"]),
                      content_type="image/jpeg").status_code == 201
    assert client.put(f"/api/v1/photos/{name}", data=data, headers=bearer(tokens["two"]),
                      content_type="image/jpeg").status_code == 201
    assert patch(client, tokens["two"], sha(resumed), resumed, offset=0, length=len(resumed)).status_code == 204
    for held in (name, sha(resumed)):
        assert head(client, tokens["two"], held).headers.get("Upload-Offset") == str(
            len(data if held == name else resumed)), held
    # Their colleague, who uploaded nothing, learns nothing from it.
    make_user("four", "commune_officer", [COMMUNE_2])
    assert head(client, token(client, "four", device="phone-four"), name).status_code == 404
    photos = [{"sha256": name, "stage": "before"}, {"sha256": sha(resumed), "stage": "after"}]
    theirs = household(declared_commune=COMMUNE_2, location={**INSIDE_2}, photos=photos)
    answer = one(push(client, tokens["two"], [theirs], device="phone-two"))
    assert answer["result"] == "created" and answer["missing_photos"] == []
    shown = client.get(f"/api/v1/households/{theirs['id']}", headers=bearer(tokens["two"])).get_json()
    assert shown["missing_photos"] == []


def test_the_push_receipt_confirms_no_photo_outside_the_caller_s_scope(client, tokens: dict[str, str]) -> None:
    data = image_bytes(size=(180, 120))
    name = sha(data)
    assert client.put(f"/api/v1/photos/{name}", data=data, headers=bearer(tokens["one"]),
                      content_type="image/jpeg").status_code == 201
    photos = [{"sha256": name, "stage": "before"}, {"sha256": "ef" * 32, "stage": "after"}]
    # An officer of another commune names the photo in a household of their own: it stays unknown to them.
    theirs = household(declared_commune=COMMUNE_2, location={**INSIDE_2}, photos=photos)
    answer = one(push(client, tokens["two"], [theirs], device="phone-two"))
    assert answer["result"] == "created" and answer["missing_photos"] == [name, "ef" * 32]
    again = one(push(client, tokens["two"], [{**theirs, "base_revision": 1, "members": 4}], device="phone-two"))
    assert again["missing_photos"] == [name, "ef" * 32]  # naming it oneself proves nothing
    assert head(client, tokens["two"], name).status_code == 404
    shown = client.get(f"/api/v1/households/{theirs['id']}", headers=bearer(tokens["two"])).get_json()
    assert shown["missing_photos"] == [name, "ef" * 32]
    # The uploader, and a manager, are told it is held.
    mine = household(photos=photos)
    assert one(push(client, tokens["one"], [mine], device="phone-one"))["missing_photos"] == ["ef" * 32]
    shown = client.get(f"/api/v1/households/{theirs['id']}", headers=bearer(tokens["boss"])).get_json()
    assert shown["missing_photos"] == ["ef" * 32]
    # A colleague of the uploader's commune sees it through the uploader's household.
    make_user("three", "commune_officer", [COMMUNE_1])
    colleague = token(client, "three", device="phone-three")
    assert head(client, colleague, name).status_code == 200
    edit = {**mine, "base_revision": 1, "note": "thêm ảnh"}
    assert one(push(client, colleague, [edit], device="phone-three"))["missing_photos"] == ["ef" * 32]
