"""``/api/v1/photos/<sha256>``: PUT the bytes, or resume with tus 1.0 HEAD/PATCH.

* ``PUT`` with the whole image: 201 when stored, 200 when already held.
  Cut off half-way, the server keeps what arrived.
* ``HEAD``: ``Upload-Offset`` (bytes held) and ``Upload-Length`` (when known);
  404 when nothing is held.
* ``PATCH`` (``Content-Type: application/offset+octet-stream``,
  ``Upload-Offset`` = bytes held, ``Tus-Resumable: 1.0.0``, and
  ``Upload-Length`` unless a PUT already declared it): appends; 204 with the
  new ``Upload-Offset``. The last piece triggers the hash and image checks.
* ``GET``: the image; ``GET …/thumbnail``: a small JPEG.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Response, current_app, request, send_file

from schemas.photos import BINARY_BODY, TUS_BODY, PhotoSchema
from tracker.accounts.auth import BEARER_DOC, WRITE_ROLES, auth_required, principal
from tracker.api import Blueprint
from tracker.errors import ApiError, body_limit
from tracker.extensions import db
from tracker.households.models import Photo
from tracker.photos import service

blp = Blueprint("photos", __name__, url_prefix="/api/v1/photos", description="Photos (content-addressed)")
TUS_VERSION = "1.0.0"
SHA_RULE = "/<string(length=64):sha>"
HEX = re.compile(r"[0-9a-f]{64}")


@blp.url_value_preprocessor
def _check_name(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    if values and "sha" in values and not HEX.fullmatch(values["sha"]):
        raise ApiError(404, "A photo is named by the lower-case hex SHA-256 of its bytes.")


@blp.after_request
def _tus_headers(response: Response) -> Response:
    response.headers["Tus-Resumable"] = TUS_VERSION
    if request.method == "OPTIONS":
        response.headers["Tus-Version"] = TUS_VERSION
        response.headers["Tus-Max-Size"] = str(current_app.config["PHOTO_MAX_BYTES"])
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _int_header(name: str, required: bool) -> int | None:
    raw = request.headers.get(name)
    if raw is None:
        if required:
            raise ApiError(400, f"The {name} header is required.", fields={name: ["Missing."]})
        return None
    if not raw.isdigit():
        raise ApiError(400, f"The {name} header must be a whole number of bytes.", fields={name: ["Not a number."]})
    return int(raw)


@blp.route(SHA_RULE, methods=["PUT"])
@body_limit("PHOTO_MAX_BYTES")
@blp.doc(**BEARER_DOC, **BINARY_BODY)
@auth_required(WRITE_ROLES)
@blp.response(201, PhotoSchema, description="Stored now (200 when it was already held)")
@blp.alt_response(413, description="Larger than PHOTO_MAX_BYTES")
@blp.alt_response(422, description="Bytes do not hash to the name, not an image, or too many pixels")
def put_photo(sha: str) -> Any:
    """Upload a photo's bytes, named by their SHA-256. Idempotent."""
    already = db.session.get(Photo, sha)
    if already is not None:
        return service.photo_json(already), 200
    length = request.content_length
    photo, _held = service.receive(principal(), sha, request.stream, offset=None, length=length)
    assert photo is not None  # a PUT body that ended is the whole photo
    return service.photo_json(photo)


@blp.route(SHA_RULE, methods=["PATCH"])
@body_limit("PHOTO_MAX_BYTES")
@blp.doc(**BEARER_DOC, **TUS_BODY)
@auth_required(WRITE_ROLES)
@blp.response(204, description="Bytes appended; Upload-Offset tells how many are held")
@blp.alt_response(409, description="Upload-Offset is not the number of bytes held")
@blp.alt_response(412, description="Tus-Resumable is not 1.0.0")
@blp.alt_response(415, description="Content-Type is not application/offset+octet-stream")
def patch_photo(sha: str) -> Response:
    """Resume an upload at ``Upload-Offset`` (tus 1.0 core)."""
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        raise ApiError(412, "Tus-Resumable: 1.0.0 is required.", headers={"Tus-Version": TUS_VERSION})
    if request.mimetype != "application/offset+octet-stream":
        raise ApiError(415, "PATCH needs Content-Type: application/offset+octet-stream.")
    offset = _int_header("Upload-Offset", required=True)
    length = _int_header("Upload-Length", required=False)
    _photo, held = service.receive(principal(), sha, request.stream, offset=offset, length=length)
    response = Response(status=204)
    response.headers["Upload-Offset"] = str(held)
    return response


@blp.route(SHA_RULE, methods=["GET", "HEAD"])
@blp.doc(**BEARER_DOC)
@auth_required()
@blp.response(200, description="The image (GET); upload state in headers (HEAD)")
def get_photo(sha: str) -> Response:
    """GET: the image. HEAD: how many bytes of it the server holds (tus)."""
    if request.method == "HEAD":
        return _head(sha)
    photo = db.session.get(Photo, sha)
    if photo is None or not service.visible(principal(), photo):
        raise ApiError(404, "The server does not hold this photo.")
    return send_file(service.storage().path(sha), mimetype=photo.content_type, max_age=0, etag=sha)


def _head(sha: str) -> Response:
    held = service.state(sha)
    if held is None:
        raise ApiError(404, "The server holds nothing of this photo.")
    response = Response(status=200)
    response.headers["Upload-Offset"] = str(held.offset)
    if held.length is not None:
        response.headers["Upload-Length"] = str(held.length)
    else:
        response.headers["Upload-Defer-Length"] = "1"
    return response


@blp.route(SHA_RULE + "/thumbnail", methods=["GET"])
@blp.doc(**BEARER_DOC)
@auth_required()
@blp.response(200, description="A JPEG thumbnail (at most 320 pixels wide or high)")
def get_thumbnail(sha: str) -> Response:
    """A small JPEG of the photo, for web pages and lists."""
    photo = db.session.get(Photo, sha)
    if photo is None or not service.visible(principal(), photo):
        raise ApiError(404, "The server does not hold this photo.")
    return send_file(service.storage().thumbnail_path(sha), mimetype="image/jpeg", max_age=3600, etag=sha)
