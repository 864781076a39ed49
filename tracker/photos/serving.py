"""Sending a stored photo or thumbnail to the client, from whichever store holds it."""
from __future__ import annotations

import logging

from flask import Response, abort, current_app, request, send_file

from tracker.errors import error_response
from tracker.photos import service
from tracker.photos.blobs import BlobMissing, StoreUnavailable
from tracker.photos.storage import photo_key, thumbnail_key

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 30


def send_stored(sha: str, mimetype: str, *, thumbnail: bool, max_age: int) -> Response:
    """The bytes with an ETag (the hash); a file of the local store is sent by path
    (ranges and conditional requests included) or, behind nginx with
    ``PHOTO_ACCEL_PREFIX``, by nginx itself; an object store's is streamed."""
    store = service.storage()
    path = store.local_thumbnail_path(sha) if thumbnail else store.local_path(sha)
    if path is not None:
        if not path.is_file() and not (thumbnail and service.make_thumbnail(sha)):
            abort(404)
        accel = current_app.config.get("PHOTO_ACCEL_PREFIX")
        if accel:  # nginx sends the file itself (an internal location over PHOTO_DIR)
            key = thumbnail_key(sha) if thumbnail else photo_key(sha)
            return Response(status=200, mimetype=mimetype, headers={
                "X-Accel-Redirect": f"{accel.rstrip('/')}/{key}", "ETag": f'"{sha}"',
                "Cache-Control": f"private, max-age={max_age}" if max_age else "no-cache"})
        return send_file(path, mimetype=mimetype, max_age=max_age, etag=sha)
    try:
        stream = store.open_thumbnail(sha) if thumbnail else store.open(sha)
    except BlobMissing:
        if not (thumbnail and service.make_thumbnail(sha)):
            abort(404)
        stream = store.open_thumbnail(sha)
    return send_file(stream, mimetype=mimetype, max_age=max_age, etag=sha)


def store_unavailable(error: StoreUnavailable) -> Response:
    """The photo store is down: 503 with ``Retry-After``; nothing was acknowledged."""
    log.warning("photo store unavailable on %s %s: %s", request.method, request.path, error)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith("/api/"):
        return error_response(503, "Photo storage is unavailable for a moment; try again later.",
                              code="store_unavailable", headers=headers)
    return Response("Photo storage is unavailable for a moment; try again later.", status=503,
                    headers=headers, mimetype="text/plain")
