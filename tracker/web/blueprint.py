"""The pages' blueprint and what every page shares: headers, language, formatting."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, render_template, request, session, url_for
from flask_babel import get_locale, refresh
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from schemas.progress import MIN_DATE
from sync.vocabulary import label
from sync.vocabulary import today as today_vn
from tracker.boundaries.models import BoundarySet
from tracker.boundaries.service import get_set
from tracker.compression import gzipped
from tracker.households.service import set_in_force
from tracker.web import LANGUAGES, formatting
from tracker.web.auth import current_principal, may_review

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/web")

# No script runs on these pages: everything is HTML, CSS and inline SVG.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
COMPRESSIBLE = ("text/html", "text/css", "image/svg+xml", "text/csv")
MIN_COMPRESS = 1024
MAX_PAGE = 1_000_000  # far past any list; keeps OFFSET inside a database integer

CODE = "0CODE0"  # where links_to puts each unit's code
_PLAIN = re.compile(r"[A-Za-z0-9_.~-]+")  # characters no part of a URL is encoded with


def links_to(endpoint: str, **values: Any) -> Callable[[str], str]:
    """``url_for(endpoint, **values)`` with each code given in place of the one value :data:`CODE`.

    A national page links 11,163 communes, and url_for took a quarter of a
    second for them: the URL is built once and each code put in, or, for a
    code of other characters than those no encoding changes, built by url_for.
    """
    built = url_for(endpoint, **values)
    name = next(key for key, value in values.items() if value == CODE)

    def exact(code: str) -> str:
        return url_for(endpoint, **{**values, name: code})

    if built.count(CODE) != 1:  # another value holds the mark as well: each link built in full
        return exact

    def link(code: str) -> str:
        return built.replace(CODE, code) if _PLAIN.fullmatch(code) else exact(code)

    return link


class BadQuery(Exception):
    """A page's query string names a date, set, plan, level or unit that does not exist.

    The page answers with the message and no figures: never a 500, and never
    a page of other figures that could be taken for the ones asked for.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def chosen_set() -> BoundarySet | None:
    """``?set=NAME`` when it names a loaded set, else the map in force on the chosen date (as the API does).

    BadQuery for an unknown name.
    """
    name = request.args.get("set")
    if name is not None:
        found = get_set(name)
        if found is None:
            raise BadQuery(404, _("There is no map (boundary set) named “%(name)s”.", name=name[:40]))
        return found
    return set_in_force(chosen_date())


def loaded_set() -> BoundarySet:
    """:func:`chosen_set` for pages that cannot show anything without a map: BadQuery when none is loaded."""
    found = chosen_set()
    if found is None:
        raise BadQuery(404, _("No boundaries have been loaded yet."))
    return found


def chosen_date() -> date:
    """``?as_of=YYYY-MM-DD`` or today; BadQuery for a date that does not exist or is still to come."""
    raw = request.args.get("as_of", "").strip()
    today = today_vn()
    if not raw:
        return today
    try:
        value = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        value = None
    if value is None or value < MIN_DATE:
        raise BadQuery(400, _("“%(value)s” is not a date. Write it as YYYY-MM-DD, for example 2025-04-16.",
                              value=raw[:20]))
    if value > today:
        raise BadQuery(400, _("%(day)s is still to come: figures exist up to today, %(today)s.",
                              day=formatting.day(value), today=formatting.day(today)))
    return value


def chosen_choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    """``?name=`` among ``allowed``; BadQuery naming the allowed values otherwise."""
    value = request.args.get(name, default)
    if value not in allowed:
        raise BadQuery(400, _("“%(value)s” is not a valid %(name)s: use %(allowed)s.", value=value[:20], name=name,
                              allowed=", ".join(allowed)))
    return value


def scope() -> frozenset[str] | None:
    who = current_principal()
    assert who is not None
    return who.commune_scope()


def page_number() -> int:
    """``?page=N`` (1 when absent or not a number); a page past any list's end is a 400."""
    try:
        number = max(int(request.args.get("page", "1")), 1)
    except ValueError:
        return 1
    if number > MAX_PAGE:
        abort(400)
    return number


def locale_code() -> str:
    return str(get_locale() or "vi")


@bp.before_app_request
def remember_language() -> None:
    # An app context may outlive one request (tests push one for many): start clean.
    g.pop("web_principal", None)
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    refresh()
    asked = request.args.get("lang")
    if asked in LANGUAGES and not request.path.startswith("/api/") and session.get("lang") != asked:
        session["lang"] = asked


@bp.app_context_processor
def page_helpers() -> dict[str, Any]:
    if request.blueprint != "web":
        return {}
    loc = locale_code()
    who = current_principal()
    return {
        "me": who,
        "can_review": may_review(who),
        "lang": loc,
        "num": lambda v, digits=0: formatting.number(v, loc, digits),
        "vnd": lambda v: formatting.vnd(v, loc),
        "pct": lambda v: formatting.percent(v, loc),
        "day": formatting.day,
        "moment": formatting.moment,
        "status_label": lambda s: label("status", s, loc),
        "support_label": lambda s: label("support_type", s, loc),
        "category_label": lambda s: label("category", s, loc),
        "flag_label": lambda s: label("flag", s, loc),
        "funding_label": lambda s: label("funding", s, loc),
        "stage_label": lambda s: label("photo_stage", s, loc),
        "level_label": lambda s: label("level", s, loc),
        "unit_type_label": lambda s: label("unit_type", s, loc) if s else "",
        "lang_url": _lang_url,
        "unit_title": unit_title,
    }


def unit_title(unit_type: str | None, name: str) -> str:
    """A unit's name with its type in front ("Xã Pắc Ngà"), once: names that already carry it keep theirs."""
    from tracker.text import fold

    if not unit_type or fold(name).startswith(fold(unit_type) + " "):
        return name
    return f"{unit_type} {name}"


def _lang_url(code: str) -> str:
    args = request.args.to_dict()
    args["lang"] = code
    from urllib.parse import urlencode

    return f"{request.path}?{urlencode(args)}"


@bp.after_request
def protect(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint == "web.static":
        response.cache_control.public = True
        response.cache_control.max_age = 3600
    elif response.mimetype == "text/html":
        headers["Cache-Control"] = "private, no-store"
        response.vary.add("Cookie")
    return _compress(response)


@bp.after_app_request
def baseline_headers(response: Response) -> Response:
    """Every answer of the app, API and pages outside this blueprint (404s, API docs) included."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", CSP)
    return response


def _compress(response: Response) -> Response:
    """gzip text answers for browsers that accept it (3G phones)."""
    if request.endpoint == "web.static" and response.status_code == 200 and response.mimetype in COMPRESSIBLE:
        response.direct_passthrough = False  # a small stylesheet: read it and compress it
    if (response.direct_passthrough or response.status_code < 200 or response.status_code == 204
            or "Content-Encoding" in response.headers or response.mimetype not in COMPRESSIBLE
            or "gzip" not in request.headers.get("Accept-Encoding", "").lower()):
        return response
    body = response.get_data()
    if len(body) < MIN_COMPRESS:
        return response
    response.set_data(gzipped(body))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    if response.headers.get("ETag"):
        response.headers["ETag"] = response.headers["ETag"].rstrip('"') + '-gz"'
    return response


def render_error(status: int, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, message=message), status


@bp.errorhandler(BadQuery)
def bad_query(error: BadQuery) -> Any:
    return render_error(error.status, error.message)


@bp.errorhandler(403)
def forbidden(_error: Any) -> Any:
    return render_error(403, str(_l("You may not open this page.")))


@bp.errorhandler(404)
def not_found(_error: Any) -> Any:
    return render_error(404, str(_l("There is nothing here, or it is outside your area.")))


@bp.errorhandler(400)
def bad_request(_error: Any) -> Any:
    return render_error(400, str(_l("The request was not understood.")))
