"""Receiving photo bytes: whole (``PUT``) or resumed in pieces (tus 1.0 ``PATCH``).

The request body is read into a spool (memory up to 1 MiB, then an
anonymous temporary file), hashed on the way, never held whole in memory.
A body cut off on the wire keeps what arrived as a piece of the caller's
upload in progress (:mod:`tracker.photos.storage`), so ``HEAD`` tells the
phone where to resume, through this server or any other sharing the store.

Uploads idle for longer than ``PHOTO_UPLOAD_IDLE_MINUTES`` are pruned (and
said so in the log): by ``flask photos prune``, and by the server itself
now and then while it receives photos.
"""
from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from datetime import timedelta
from typing import IO

from flask import current_app
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from tracker.accounts.auth import Principal
from tracker.dbtypes import utcnow
from tracker.errors import ApiError
from tracker.extensions import db
from tracker.households.models import Photo
from tracker.http import after_response
from tracker.photos import service
from tracker.photos.storage import CHUNK, Upload

log = logging.getLogger(__name__)
SPOOL_IN_MEMORY = 1024 * 1024


class _Cut(Exception):
    """The body ended before its announced length (the phone lost its connection)."""


class Spool:
    """A request body on its way in: size and SHA-256 counted as it arrives."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
        self.digest = hashlib.sha256()
        self.size = 0

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.file.close()

    def fill(self, stream: IO[bytes], limit: int, announced: int | None) -> None:
        """Read to the end of ``stream``; more than ``limit`` bytes is 413, a cut is :class:`_Cut`.

        A body that ends before its ``Content-Length`` (``announced``) was cut
        off, whether the WSGI server says so or just stops giving bytes.
        """
        while True:
            try:
                chunk = stream.read(CHUNK)
            except RequestEntityTooLarge:
                raise _too_large(limit) from None
            except (ClientDisconnected, OSError):  # werkzeug's, or the WSGI server's own (gunicorn: NoMoreData)
                raise _Cut() from None
            if not chunk:
                break
            if self.size + len(chunk) > limit:
                raise _too_large(limit)
            self.file.write(chunk)
            self.digest.update(chunk)
            self.size += len(chunk)
        self.file.seek(0)
        if announced is not None and self.size < announced:
            raise _Cut()

    def rewind(self) -> IO[bytes]:
        self.file.seek(0)
        return self.file


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"This upload may have at most {limit} more bytes.")


def _hash_mismatch(actual: str) -> ApiError:
    return ApiError(422, "The bytes do not hash to the name of the photo.", code="hash_mismatch",
                    fields={"sha256": [f"The body hashes to {actual}."]})


def _incomplete(held: int) -> ApiError:
    return ApiError(400, "The upload was cut off; HEAD tells how much is held.", code="upload_incomplete",
                    headers={"Upload-Offset": str(held)})


def _end_read_transaction() -> None:
    """Hold no database transaction open while bytes trickle in over 3G."""
    db.session.commit()


def put_whole(caller: Principal, sha: str, stream: IO[bytes], length: int | None) -> Photo:
    """A whole photo in one body (``PUT``): it starts again from byte 0."""
    prune_now_and_then()
    _end_read_transaction()
    store = service.storage()
    with Spool() as spool:
        try:
            spool.fill(stream, length if length is not None else current_app.config["PHOTO_MAX_BYTES"], length)
        except _Cut:
            raise _keep_cut_put(caller, sha, spool, length) from None
        upload = store.upload(caller.user_id, sha)
        if spool.digest.hexdigest() != sha:
            store.discard([upload])
            raise _hash_mismatch(spool.digest.hexdigest())
        photo = service.finish(caller, sha, spool.rewind(), spool.size)
    store.discard([upload])
    return photo


def _keep_cut_put(caller: Principal, sha: str, spool: Spool, length: int | None) -> ApiError:
    """Keep what a cut-off ``PUT`` delivered as the first piece of the caller's upload."""
    if length is None or spool.size == 0:
        return _incomplete(0)
    store = service.storage()
    upload = store.upload(caller.user_id, sha)
    if not upload.entries:
        _check_open_uploads(caller)
    store.save_piece(upload, 0, spool.rewind())
    store.declare_length(upload, length)
    store.drop_pieces_after(upload, 0)
    return _incomplete(spool.size)


def patch_piece(caller: Principal, sha: str, stream: IO[bytes], offset: int, length: int | None,
                announced: int | None) -> int:
    """Append a piece at ``offset`` (``PATCH``; ``announced``: its Content-Length); returns the bytes held."""
    prune_now_and_then()
    known = service.known_to(caller, sha)
    if known is not None:
        return known.size_bytes
    _end_read_transaction()
    store = service.storage()
    upload = store.upload(caller.user_id, sha)
    declared = _declared_length(upload, length)
    if offset != upload.held:
        raise ApiError(409, f"Upload-Offset {offset} does not match the {upload.held} bytes held.",
                       code="offset_mismatch", headers={"Upload-Offset": str(upload.held)})
    if not upload.entries:
        _check_open_uploads(caller)
    if declared != upload.length:
        store.declare_length(upload, declared)
    with Spool() as spool:
        cut = False
        try:
            spool.fill(stream, declared - upload.held, announced)
        except _Cut:
            cut = True
        if spool.size:
            store.save_piece(upload, offset, spool.rewind())
    held = offset + spool.size
    if cut:
        raise _incomplete(held)
    if held == declared:
        _assemble(caller, store.upload(caller.user_id, sha))
    return held


def _declared_length(upload: Upload, length: int | None) -> int:
    """The upload's length: declared once, never changed under bytes already held."""
    if length is not None and upload.length is not None and length != upload.length and upload.held:
        raise ApiError(400, f"This upload declared Upload-Length {upload.length}; it cannot change while "
                       f"{upload.held} bytes are held.", code="length_mismatch",
                       fields={"Upload-Length": [f"Must be {upload.length}."]})
    declared = length if length is not None else upload.length
    if declared is None:
        raise ApiError(400, "Upload-Length is needed to start a resumable upload.", code="length_required")
    max_bytes = current_app.config["PHOTO_MAX_BYTES"]
    if declared > max_bytes:
        raise ApiError(413, f"A photo may have at most {max_bytes} bytes.")
    return declared


def _check_open_uploads(caller: Principal) -> None:
    limit = current_app.config["PHOTO_MAX_OPEN_UPLOADS"]
    if len(service.storage().open_uploads(caller.user_id)) >= limit:
        raise ApiError(429, f"This account already has {limit} photo uploads in progress; finish those first.",
                       code="too_many_uploads", headers={"Retry-After": "600"})


def _assemble(caller: Principal, upload: Upload) -> None:
    """The last piece arrived: put the pieces together, check the hash, store the photo."""
    store = service.storage()
    with Spool() as spool:
        store.copy_pieces(upload, spool.file)
        spool.file.seek(0)
        digest = hashlib.sha256()
        while chunk := spool.file.read(CHUNK):
            digest.update(chunk)
        if digest.hexdigest() != upload.sha:
            store.discard([upload])
            raise _hash_mismatch(digest.hexdigest())
        service.finish(caller, upload.sha, spool.rewind(), upload.held)
    store.discard([upload])


# --- abandoned uploads -------------------------------------------------------------------------


def prune(idle_minutes: int | None = None) -> tuple[int, int]:
    """Remove uploads idle for ``idle_minutes`` (default ``PHOTO_UPLOAD_IDLE_MINUTES``).

    Returns (uploads pruned, bytes freed); each one is logged.
    """
    minutes = current_app.config["PHOTO_UPLOAD_IDLE_MINUTES"] if idle_minutes is None else idle_minutes
    cutoff = utcnow() - timedelta(minutes=minutes)
    store = service.storage()
    stale = [u for u in store.all_uploads() if u.newest is not None and u.newest <= cutoff]
    for upload in stale:
        log.info("pruned abandoned upload of photo %s by user %s: %d bytes, idle since %s",
                 upload.sha, upload.owner, upload.stored_bytes, upload.newest.isoformat() if upload.newest else "?")
    store.discard(stale)
    return len(stale), sum(u.stored_bytes for u in stale)


def prune_now_and_then() -> None:
    """Prune from within the server at most four times per idle period (and every ten minutes at most).

    In a request, once the answer is sent: the upload that set it off neither waits for it nor fails with it.
    """
    interval = min(600.0, current_app.config["PHOTO_UPLOAD_IDLE_MINUTES"] * 15.0)
    now = time.monotonic()
    last = current_app.extensions.get("photo_pruned_at")
    if last is not None and now - last < interval:
        return
    current_app.extensions["photo_pruned_at"] = now
    after_response(prune)
