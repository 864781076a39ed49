"""The OpenRosa documents the server writes: form list, manifest and response messages."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from flask import Response

OPENROSA_VERSION = "1.0"
XFORMS_LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
RESPONSE_NS = "http://openrosa.org/http/response"
XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'


@dataclass(frozen=True)
class ListedForm:
    form_id: str
    name: str
    version: str
    md5: str
    download_url: str
    manifest_url: str | None


@dataclass(frozen=True)
class MediaFile:
    filename: str
    md5: str
    download_url: str


class OpenRosaError(Exception):
    """An error answered as an ``OpenRosaResponse`` with its status."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def _tag(name: str, value: str) -> str:
    return f"<{name}>{escape(value)}</{name}>"


def form_list(forms: Iterable[ListedForm]) -> str:
    items = []
    for form in forms:
        parts = [_tag("formID", form.form_id), _tag("name", form.name), _tag("version", form.version),
                 _tag("hash", f"md5:{form.md5}"), _tag("downloadUrl", form.download_url)]
        if form.manifest_url:
            parts.append(_tag("manifestUrl", form.manifest_url))
        items.append("<xform>" + "".join(parts) + "</xform>")
    return f'{XML_DECL}<xforms xmlns="{XFORMS_LIST_NS}">' + "".join(items) + "</xforms>"


def manifest(files: Iterable[MediaFile]) -> str:
    items = "".join(
        "<mediaFile>" + _tag("filename", f.filename) + _tag("hash", f"md5:{f.md5}")
        + _tag("downloadUrl", f.download_url) + "</mediaFile>"
        for f in files
    )
    return f'{XML_DECL}<manifest xmlns="{MANIFEST_NS}">{items}</manifest>'


def message(text: str, nature: str = "submit_success") -> str:
    return (f'{XML_DECL}<OpenRosaResponse xmlns="{RESPONSE_NS}">'
            f"<message nature={quoteattr(nature)}>{escape(text)}</message></OpenRosaResponse>")


def xml_response(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(body, status=status, mimetype="text/xml")
    response.charset = "utf-8"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return xml_response(message(text, "error"), status, headers)
