"""Server-rendered pages for provincial staff: sign-in, dashboard, map, communes, households, review.

``init_app`` wires the pieces the pages need: Flask-Babel (Vietnamese by
default, English on request), the CSRF-checked forms (Flask-WTF), the
blueprint, and the security headers and compression of its responses.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, request, session
from flask_babel import Babel

from sync.vocabulary import TIMEZONE

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
babel = Babel()


def select_locale() -> str:
    """``?lang=`` for this request, else the language chosen in this session, else Vietnamese."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def init_app(app: Flask) -> None:
    from tracker.openrosa import pages  # noqa: F401  (the field app's pages)
    from tracker.web import crosswalk, dashboard, mappage, printout, review, views  # noqa: F401  (their routes)
    from tracker.web.blueprint import bp

    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", TIMEZONE)
    # Flask's defaults, made stricter unless the settings chose otherwise.
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config.get("PERMANENT_SESSION_LIFETIME") == timedelta(days=31):
        app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=12)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 12 * 3600)
    babel.init_app(app, locale_selector=select_locale)
    app.register_blueprint(bp)
