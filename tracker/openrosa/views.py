"""The OpenRosa server (DESIGN.md, "Field app: OpenRosa").

Every route exists twice: under ``/openrosa/key/<key>`` (an enrolled
device's key, the URL Collect is given by the settings QR code) and under
``/openrosa`` (the officer's account by HTTP Basic, behind HTTPS). Every
answer carries ``X-OpenRosa-Version: 1.0``; every error is an
``OpenRosaResponse`` with the right status.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, g, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from tracker.accounts.auth import Principal
from tracker.errors import body_limit
from tracker.extensions import db
from tracker.openrosa import forms, media, submissions
from tracker.openrosa.auth import authenticate
from tracker.openrosa.xml import (
    OPENROSA_VERSION,
    ListedForm,
    MediaFile,
    OpenRosaError,
    error_response,
    form_list,
    manifest,
    message,
    xml_response,
)

bp = Blueprint("openrosa", __name__)
PREFIXES = ("/openrosa", "/openrosa/key/<string(maxlength=200):key>")
XML_PART = "xml_submission_file"
INCOMPLETE = "*isIncomplete*"


def route(rule: str, **options: Any) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Register a view under both prefixes; it gets the caller, never the key."""

    def decorator(view: Callable[..., Response]) -> Callable[..., Response]:
        @wraps(view)
        def wrapper(key: str | None = None, **kwargs: Any) -> Response:
            try:
                g.openrosa_key = key
                caller = authenticate(key, request.headers.get("Authorization", ""))
                return view(caller, **kwargs)
            except OpenRosaError as exc:
                return error_response(exc.status, exc.message, exc.headers)

        for prefix in PREFIXES:
            bp.add_url_rule(prefix + rule, view_func=wrapper, **options)
        return wrapper

    return decorator


def _url(endpoint: str, **values: Any) -> str:
    """An absolute URL under the prefix this request came in by (``PUBLIC_URL`` when set)."""
    path = url_for(f"openrosa.{endpoint}", key=g.get("openrosa_key"), **values)
    base = current_app.config.get("PUBLIC_URL") or request.host_url
    return base.rstrip("/") + path


def accept_bytes() -> int:
    return int(current_app.config["OPENROSA_ACCEPT_BYTES"])


@route("/formList", methods=["GET"])
def form_list_view(caller: Principal) -> Response:
    listed = [] if not caller.may_write else [
        ListedForm(form.form_id, form.title, form.version, form.md5, _url("form_view", form_id=form.form_id),
                   _url("manifest_view", form_id=form.form_id) if form.media else None)
        for form in forms.all_forms()
    ]
    return xml_response(form_list(listed), headers={"Cache-Control": "no-store"})


def _form(caller: Principal, form_id: str) -> forms.Form:
    form = forms.find(form_id)
    if form is None or not caller.may_write:
        raise OpenRosaError(404, f"Không có mẫu phiếu '{form_id[:64]}'.")
    return form


@route("/forms/<string(maxlength=64):form_id>/form.xml", methods=["GET"])
def form_view(caller: Principal, form_id: str) -> Response:
    return xml_response(_form(caller, form_id).xml.decode("utf-8"))


@route("/forms/<string(maxlength=64):form_id>/manifest", methods=["GET"])
def manifest_view(caller: Principal, form_id: str) -> Response:
    form = _form(caller, form_id)
    files = []
    for filename in form.media:
        data = media.generate(filename, caller) or b""
        files.append(MediaFile(filename, media.md5(data), _url("media_view", form_id=form_id, filename=filename)))
    return xml_response(manifest(files), headers={"Cache-Control": "no-store"})


@route("/forms/<string(maxlength=64):form_id>/media/<string(maxlength=100):filename>", methods=["GET"])
def media_view(caller: Principal, form_id: str, filename: str) -> Response:
    form = _form(caller, form_id)
    data = media.generate(filename, caller) if filename in form.media else None
    if data is None:
        raise OpenRosaError(404, f"Mẫu phiếu '{form_id}' không có tệp '{filename}'.")
    response = Response(data, mimetype="text/csv")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _part() -> submissions.Part:
    if request.mimetype != "multipart/form-data":
        raise OpenRosaError(400, "Phiếu phải gửi dạng multipart/form-data với phần xml_submission_file.")
    try:
        uploads = request.files
        incomplete = request.form.get(INCOMPLETE, "").strip().lower() == "yes"
    except RequestEntityTooLarge:
        raise OpenRosaError(413, "Lần gửi này quá lớn.") from None
    xml_file = uploads.get(XML_PART)
    if xml_file is None:
        raise OpenRosaError(400, "Thiếu phần xml_submission_file.")
    files: dict[str, bytes] = {}
    for name, upload in uploads.items(multi=True):
        if name == XML_PART:
            continue
        filename = (upload.filename or name).rsplit("/", 1)[-1]
        files[filename] = upload.read()
    return submissions.Part(xml_file.read(), files, incomplete)


@route("/submission", methods=["HEAD"])
def submission_head(caller: Principal) -> Response:
    answer = Response(status=204, headers={"X-OpenRosa-Accept-Content-Length": str(accept_bytes())})
    del answer.headers["Content-Type"]  # a 204 carries no body, so no type
    return answer


@body_limit("OPENROSA_MAX_BODY_BYTES")
@route("/submission", methods=["POST"])
def submission_post(caller: Principal) -> Response:
    part = _part()
    try:
        status, text = submissions.receive(caller, part)
    except submissions.Rejected as exc:
        db.session.rollback()
        submissions.record_rejection(exc.receipt)
        db.session.commit()
        raise
    except OpenRosaError:
        db.session.rollback()
        raise
    db.session.commit()
    return xml_response(message(text), status,
                        headers={"X-OpenRosa-Accept-Content-Length": str(accept_bytes())})


def add_version_header(response: Response) -> Response:
    if request.path.startswith("/openrosa"):
        response.headers["X-OpenRosa-Version"] = OPENROSA_VERSION
    return response
