"""``/api/v1/photos/<sha256>``: PUT the bytes, or resume with tus 1.0 HEAD/PATCH.

* ``PUT`` with the whole image: 201 when stored, 200 when already held.
  Cut off half-way, the server keeps what arrived.
* ``HEAD``: ``Upload-Offset`` (bytes held) and ``Upload-Length`` (when known);
  404 when nothing is held that the caller may know of (their own upload in
  progress, or a photo they may see).
* ``PATCH`` (``Content-Type: application/offset+octet-stream``,
  ``Upload-Offset`` = bytes held, ``Tus-Resumable: 1.0.0``, and
  ``Upload-Length`` unless a PUT already declared it): appends; 204 with the
  new ``Upload-Offset``. The last piece triggers the hash and image checks.
* ``GET``: the image; ``GET …/thumbnail``: a small JPEG.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Response, current_app, request

from schemas.photos import BINARY_BODY, TUS_BODY, PhotoSchema
from tracker.accounts.auth import BEARER_DOC, WRITE_ROLES, auth_required, principal
from tracker.api import Blueprint
from tracker.errors import ApiError, body_limit
from tracker.photos import service, uploads
from tracker.photos.serving import send_stored

blp = Blueprint("photos", __name__, url_prefix="/api/v1/photos", description="Photos (content-addressed)")
TUS_VERSION = "1.0.0"
SHA_RULE = "/<string(length=64):sha>"
HEX = re.compile(r"[0-9a-f]{64}")
DIGITS = re.compile(r"[0-9]+")


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
    """A byte count from a header: ASCII digits only (no sign, space, or other script's digits)."""
    raw = request.headers.get(name)
    if raw is None:
        if required:
            raise ApiError(400, f"The {name} header is required.", fields={name: ["Missing."]})
        return None
    if not DIGITS.fullmatch(raw):
        raise ApiError(400, f"The {name} header must be a whole number of bytes in ASCII digits.",
                       fields={name: ["Not a number."]})
    return int(raw) if len(raw) <= 18 else 10**18  # past any photo; int() of thousands of digits refuses


@blp.route(SHA_RULE, methods=["PUT"])
@body_limit("PHOTO_MAX_BYTES")
@blp.doc(**BEARER_DOC, **BINARY_BODY)
@auth_required(WRITE_ROLES)
@blp.response(201, PhotoSchema, description="Stored now (200 when it was already held)")
@blp.alt_response(413, description="Larger than PHOTO_MAX_BYTES")
@blp.alt_response(422, description="Bytes do not hash to the name, not an image, or too many pixels")
def put_photo(sha: str) -> Any:
    """Upload a photo's bytes, named by their SHA-256. Idempotent.

    A photo the caller may already know of answers 200 at once; any other
    answer comes only after the whole body has hashed to the name, so a
    writer learns nothing about a photo they do not hold."""
    already = service.known_to(principal(), sha)
    if already is not None:
        return service.photo_json(already), 200
    return service.photo_json(uploads.put_whole(principal(), sha, request.stream, request.content_length))


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
    assert offset is not None
    held = uploads.patch_piece(principal(), sha, request.stream, offset, length, request.content_length)
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
    photo = service.known_to(principal(), sha)
    if photo is None:
        raise ApiError(404, "The server does not hold this photo.")
    return send_stored(sha, photo.content_type, thumbnail=False, max_age=0)


def _head(sha: str) -> Response:
    held = service.state(principal(), sha)
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
    if service.known_to(principal(), sha) is None:
        raise ApiError(404, "The server does not hold this photo.")
    return send_stored(sha, "image/jpeg", thumbnail=True, max_age=3600)
