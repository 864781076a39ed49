"""Receiving photos: whole (``PUT``) or resumed in pieces (tus 1.0 ``PATCH``).

Bytes go straight from the request stream to a partial file on disk, never
whole into memory. When the last byte has arrived the file is hashed from
disk and must hash to its name, decoded with Pillow (a real JPEG/PNG/WebP,
within the pixel limit), thumbnailed, and moved into place atomically; only
then does a ``Photo`` row exist. An interrupted upload keeps its bytes, and
``HEAD`` tells how many, so the phone resumes from there.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

from flask import current_app
from sqlalchemy import Text, cast, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from tracker.accounts.auth import Principal
from tracker.audit import service as audit
from tracker.dbtypes import utcnow
from tracker.errors import ApiError
from tracker.extensions import db
from tracker.households.models import Photo, PhotoUpload
from tracker.photos.images import ImageRejected, inspect
from tracker.photos.storage import CHUNK, FileStorage, UploadBusy


@dataclass
class UploadState:
    offset: int
    length: int | None
    complete: bool


def storage() -> FileStorage:
    return FileStorage(current_app.config["PHOTO_DIR"])


def photo_json(photo: Photo) -> dict[str, Any]:
    return {
        "sha256": photo.sha256, "size_bytes": photo.size_bytes, "content_type": photo.content_type,
        "width": photo.width, "height": photo.height,
        "exif": {"lat": photo.exif_lat, "lon": photo.exif_lon, "taken_at": photo.exif_taken_at},
        "stored_at": photo.stored_at.isoformat(),
    }


def visible(caller: Principal, photo: Photo) -> bool:
    """May the caller fetch this photo? Managers always; others when they uploaded it
    or when a household in their scope (any revision) names it."""
    scope = caller.commune_scope()
    if scope is None or photo.uploaded_by == caller.user_id:
        return True
    from tracker.households.models import HouseholdRevision
    from tracker.households.scope import revision_in_scope

    # A SHA-256 in hex cannot occur by accident in a record's JSON text: a
    # substring test finds every revision naming the photo, on either database.
    named = cast(HouseholdRevision.data, Text).contains(photo.sha256, autoescape=True)
    return bool(db.session.scalar(select(exists().where(named, revision_in_scope(HouseholdRevision, scope)))))


def state(sha: str) -> UploadState | None:
    """How much of this photo the server holds (None: nothing at all)."""
    photo = db.session.get(Photo, sha)
    if photo is not None:
        return UploadState(photo.size_bytes, photo.size_bytes, True)
    size = storage().partial_size(sha)
    if size is None:
        return None
    upload = db.session.get(PhotoUpload, sha)
    return UploadState(size, upload.upload_length if upload else None, False)


def _end_read_transaction() -> None:
    """Do not hold a database transaction open while bytes trickle in over 3G."""
    db.session.commit()


def receive(caller: Principal, sha: str, stream: IO[bytes], *, offset: int | None,
            length: int | None) -> tuple[Photo | None, int]:
    """Take bytes for ``sha``; returns (the photo once complete, bytes held).

    ``offset=None`` is a whole upload (``PUT``): it starts again from byte 0.
    Otherwise the bytes append at ``offset``, which must be what is held.
    ``length`` is the full size when known (``Upload-Length`` or, for a PUT,
    ``Content-Length``).
    """
    max_bytes = current_app.config["PHOTO_MAX_BYTES"]
    existing = db.session.get(Photo, sha)
    if existing is not None:
        return existing, existing.size_bytes
    upload = db.session.get(PhotoUpload, sha)
    if length is None and upload is not None and offset is not None:
        length = upload.upload_length
    if length is not None and length > max_bytes:
        raise ApiError(413, f"A photo may have at most {max_bytes} bytes.")
    _end_read_transaction()
    store = storage()
    try:
        with store.open_partial(sha) as handle:
            held = handle.tell()
            if offset is None:
                handle.truncate(0)
                handle.seek(0)
                held = 0
            elif offset != held:
                raise ApiError(409, f"Upload-Offset {offset} does not match the {held} bytes held.",
                               code="offset_mismatch", headers={"Upload-Offset": str(held)})
            elif length is None:
                raise ApiError(400, "Upload-Length is needed to start a resumable upload.",
                               code="length_required")
            try:
                held = _copy(stream, handle, held, length, max_bytes)
            except ClientDisconnected:
                handle.flush()
                _remember(sha, length, handle.tell())
                raise ApiError(400, "The upload was cut off; HEAD tells how much is held.",
                               code="upload_incomplete", headers={"Upload-Offset": str(handle.tell())}) from None
            except RequestEntityTooLarge:
                handle.truncate(0)
                _forget(sha)
                raise ApiError(413, f"A photo may have at most {max_bytes} bytes.") from None
            handle.flush()
            complete = held == length if length is not None else offset is None
            if not complete:
                _remember(sha, length, held)
                return None, held
            photo = _finish(caller, store, sha, held)
    except UploadBusy:
        raise ApiError(409, "Another upload of this photo is in progress.", code="upload_in_progress") from None
    return photo, held


def _copy(stream: IO[bytes], handle: IO[bytes], held: int, length: int | None, max_bytes: int) -> int:
    """Append the request body; stops at ``length``. Raises on a cut-off stream."""
    limit = length if length is not None else max_bytes
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            return held
        if held + len(chunk) > limit:
            raise RequestEntityTooLarge()
        handle.write(chunk)
        held += len(chunk)


def _remember(sha: str, length: int | None, held: int) -> None:
    upload = db.session.get(PhotoUpload, sha)
    now = utcnow()
    if upload is None:
        upload = PhotoUpload(sha256=sha, created_at=now)
        db.session.add(upload)
    upload.upload_length, upload.offset, upload.updated_at = length, held, now
    db.session.commit()


def _forget(sha: str) -> None:
    upload = db.session.get(PhotoUpload, sha)
    if upload is not None:
        db.session.delete(upload)
    db.session.commit()


def _reject(store: FileStorage, sha: str, error: ApiError) -> ApiError:
    store.discard_partial(sha)
    _forget(sha)
    return error


def _finish(caller: Principal, store: FileStorage, sha: str, size: int) -> Photo:
    """Verify the complete partial file and move it into place (under the upload lock)."""
    actual = store.hash_partial(sha)
    if actual != sha:
        raise _reject(store, sha, ApiError(
            422, "The bytes do not hash to the name of the photo.", code="hash_mismatch",
            fields={"sha256": [f"The body hashes to {actual}."]}))
    try:
        info = inspect(store.partial_path(sha), current_app.config["PHOTO_MAX_PIXELS"])
    except ImageRejected as exc:
        raise _reject(store, sha, ApiError(422, str(exc), code=exc.code)) from None
    store.write_thumbnail(sha, info.thumbnail)
    store.finish(sha)
    row = {
        "sha256": sha, "size_bytes": size, "content_type": info.content_type, "width": info.width,
        "height": info.height, "exif_lat": info.exif_lat, "exif_lon": info.exif_lon,
        "exif_taken_at": info.exif_taken_at, "uploaded_by": caller.user_id, "stored_at": utcnow(),
    }
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(Photo.__table__).values(**row).on_conflict_do_nothing(index_elements=["sha256"]))
    upload = db.session.get(PhotoUpload, sha)
    if upload is not None:
        db.session.delete(upload)
    audit.record("photo.store", actor_id=caller.user_id, actor_name=caller.username, device_id=caller.device_id,
                 object_type="photo", object_id=sha,
                 details={"size_bytes": size, "content_type": info.content_type,
                          "exif": {"lat": info.exif_lat, "lon": info.exif_lon, "taken_at": info.exif_taken_at}})
    db.session.commit()
    photo = db.session.get(Photo, sha)
    assert photo is not None
    return photo
