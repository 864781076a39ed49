"""Serving behind a reverse proxy (nginx): the client's address and scheme, secure cookies, HSTS.

``PROXY_HOPS`` says how many proxies in front are trusted to set
``X-Forwarded-For``/``-Proto``/``-Host``: with nginx alone in front it is 1,
so ``request.remote_addr`` is the phone's address (the sign-in rate limits
count phones, not the proxy) and ``request.is_secure`` says whether the phone
spoke HTTPS. With 0 (the default, gunicorn facing clients) those headers are
ignored: a client cannot forge its address.

``HTTPS=1`` marks cookies ``Secure`` and sends ``Strict-Transport-Security``
on every answer given over HTTPS.
"""
from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    if app.config.get("HTTPS"):
        app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_HTTPONLY=True)
        app.after_request(_strict_transport)


def _strict_transport(response: Response) -> Response:
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response
