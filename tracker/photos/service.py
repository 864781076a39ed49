"""Photos: which store, who may see one, and turning verified bytes into a stored photo.

A photo is stored only once its bytes hash to its name and decode as a real
JPEG/PNG/WebP within the pixel limit (:mod:`tracker.photos.images`); then the
photo and its thumbnail are written to the store and, last, the ``Photo`` row
appears. Receiving the bytes is :mod:`tracker.photos.uploads`.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import IO, Any

from flask import current_app
from sqlalchemy import Text, cast, exists, or_, select

from tracker.accounts.auth import Principal
from tracker.audit import service as audit
from tracker.dbtypes import insert_into, utcnow
from tracker.errors import ApiError
from tracker.extensions import db
from tracker.households.models import Photo, PhotoHolder
from tracker.photos.blobs import BlobMissing, Blobs, LocalBlobs
from tracker.photos.images import ImageRejected, inspect
from tracker.photos.storage import PhotoStorage

STORE_SETTINGS = ("PHOTO_STORE", "PHOTO_DIR", "S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION", "S3_PREFIX")


@dataclass
class UploadState:
    offset: int
    length: int | None


def storage() -> PhotoStorage:
    """The configured store (``PHOTO_STORE``: ``local`` or ``s3``), made once per app."""
    cache = current_app.extensions.setdefault("photo_storage", {})
    key = tuple(current_app.config.get(name) for name in STORE_SETTINGS)
    if key not in cache:
        cache.clear()
        cache[key] = PhotoStorage(_blobs(current_app.config))
    return cache[key]


def _blobs(config: dict[str, Any]) -> Blobs:
    kind = config.get("PHOTO_STORE", "local")
    if kind == "local":
        return LocalBlobs(config["PHOTO_DIR"])
    if kind == "s3":
        from tracker.photos.s3 import S3Blobs

        return S3Blobs.from_config(config)
    raise RuntimeError(f"PHOTO_STORE must be 'local' or 's3', not {kind!r}")


def photo_json(photo: Photo) -> dict[str, Any]:
    return {
        "sha256": photo.sha256, "size_bytes": photo.size_bytes, "content_type": photo.content_type,
        "width": photo.width, "height": photo.height,
        "exif": {"lat": photo.exif_lat, "lon": photo.exif_lon, "taken_at": photo.exif_taken_at},
        "stored_at": photo.stored_at.isoformat(),
    }


def visible(caller: Principal, photo: Photo) -> bool:
    """May the caller know of this photo? Managers always; others when they uploaded its
    bytes (first, or after someone else: :func:`finish`), or when a household
    in their scope (any revision) names it, in a revision someone else wrote:
    naming a hash in one's own record proves nothing, or any writer could
    learn of any photo by pushing its hash first."""
    scope = caller.commune_scope()
    if scope is None or photo.uploaded_by == caller.user_id:
        return True
    if db.session.get(PhotoHolder, (photo.sha256, caller.user_id)) is not None:
        return True
    from tracker.households.models import HouseholdRevision
    from tracker.households.scope import revision_in_scope

    # A SHA-256 in hex cannot occur by accident in a record's JSON text: a
    # substring test finds every revision naming the photo, on either database.
    named = cast(HouseholdRevision.data, Text).contains(photo.sha256, autoescape=True)
    by_another = or_(HouseholdRevision.user_id.is_(None), HouseholdRevision.user_id != caller.user_id)
    return bool(db.session.scalar(select(exists().where(
        named, by_another, revision_in_scope(HouseholdRevision, scope)))))


def known_among(caller: Principal, hashes: Collection[str]) -> set[str]:
    """The photos among ``hashes`` that are stored and the caller may know of (:func:`visible`).

    Every answer that says whether a photo is held (a push's ``missing_photos``,
    a household's, the pull receipt) asks this, so none confirms a photo
    outside the caller's scope.
    """
    wanted = sorted(set(hashes))
    if not wanted:
        return set()
    photos = db.session.scalars(select(Photo).where(Photo.sha256.in_(wanted))).all()
    return {photo.sha256 for photo in photos if visible(caller, photo)}


def known_to(caller: Principal, sha: str) -> Photo | None:
    """The stored photo, when the caller may know it exists."""
    photo = db.session.get(Photo, sha)
    return photo if photo is not None and visible(caller, photo) else None


def state(caller: Principal, sha: str) -> UploadState | None:
    """How much of this photo the server holds for the caller (None: nothing they may know of)."""
    photo = known_to(caller, sha)
    if photo is not None:
        return UploadState(photo.size_bytes, photo.size_bytes)
    upload = storage().upload(caller.user_id, sha)
    if not upload.entries:
        return None
    return UploadState(upload.held, upload.length)


def finish(caller: Principal, sha: str, source: IO[bytes], size: int) -> Photo:
    """Store bytes already hashed to ``sha``: decode, write, the row, then the thumbnail job.

    A photo already held (someone else's upload of the same bytes) is not
    decoded or written again: the caller has just proved they hold it.
    """
    existing = db.session.get(Photo, sha)
    if existing is not None:
        if caller.user_id is not None and existing.uploaded_by != caller.user_id:  # may know of it (visible())
            db.session.execute(_insert(PhotoHolder).values(sha256=sha, user_id=caller.user_id)
                               .on_conflict_do_nothing(index_elements=["sha256", "user_id"]))
            db.session.commit()
        return existing
    source.seek(0)
    try:
        info = inspect(source, current_app.config["PHOTO_MAX_PIXELS"], thumbnail=False)
    except ImageRejected as exc:
        raise ApiError(422, str(exc), code=exc.code) from None
    store = storage()
    source.seek(0)
    store.put_photo(sha, source)
    row = {
        "sha256": sha, "size_bytes": size, "content_type": info.content_type, "width": info.width,
        "height": info.height, "exif_lat": info.exif_lat, "exif_lon": info.exif_lon,
        "exif_taken_at": info.exif_taken_at, "uploaded_by": caller.user_id, "stored_at": utcnow(),
    }
    inserted = db.session.scalar(_insert(Photo).values(**row)
                                 .on_conflict_do_nothing(index_elements=["sha256"]).returning(Photo.sha256))
    if inserted is not None:  # a concurrent finisher of the same photo audits nothing twice
        audit.record("photo.store", actor_id=caller.user_id, actor_name=caller.username,
                     device_id=caller.device_id, object_type="photo", object_id=sha,
                     details={"size_bytes": size, "content_type": info.content_type,
                              "exif": {"lat": info.exif_lat, "lon": info.exif_lon, "taken_at": info.exif_taken_at}})
    db.session.commit()
    if inserted is not None:
        from tracker.jobs import queue  # the thumbnail is made by a job (at once, without a queue)

        queue.start("photos.thumbnail", {"sha256": sha}, owner_id=caller.user_id, here_if_down=True)
    photo = db.session.get(Photo, sha)
    assert photo is not None
    return photo


def _insert(model: type[db.Model]) -> Any:
    return insert_into(model.__table__, db.session.get_bind().dialect.name)


def make_thumbnail(sha: str) -> bool:
    """Make and store the thumbnail of a stored photo (the same bytes however often); False when no photo is held.

    Its job normally makes it; a server killed between acknowledging the
    photo and running the job, or a job failed for good, leaves none, so
    serving a thumbnail makes a missing one on demand.
    """
    from tracker.photos.images import make_thumbnail as thumbnail_of

    store = storage()
    try:
        with store.open(sha) as source:
            data = thumbnail_of(source)
    except BlobMissing:
        return False
    store.put_thumbnail(sha, data)
    return True
