"""ODK Collect and KoBoCollect as the officers' field app: an OpenRosa server.

The forms are XLSForms kept in ``forms/`` and compiled with pyxform; a
submission is mapped to the household record and goes through the same push
as ``POST /api/v1/sync/push`` (see ``submissions``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the package stays importable without Flask: parse and mapping are pure
    from flask import Flask


def init_app(app: Flask) -> None:
    """The OpenRosa routes, their version header and their XML errors."""
    from tracker.errors import ERROR_RENDERERS
    from tracker.openrosa.views import add_version_header, bp
    from tracker.openrosa.xml import error_response

    app.register_blueprint(bp)
    app.after_request(add_version_header)
    ERROR_RENDERERS["/openrosa"] = lambda status, text, headers: error_response(status, text, dict(headers))
