"""Web sessions: the same accounts, roles and scopes as the API.

A signed-in browser carries the user's id and session epoch in Flask's signed
session cookie (HttpOnly, SameSite=Lax), nothing derived from the password.
Every request reloads the user, so a disabled account, a changed role, or a
raised epoch (signing out everywhere, a new password) takes effect at once. The caller becomes the same
``Principal`` the API builds from a bearer token (device ``web``), so
``commune_scope()`` decides what a page may show exactly as for the API.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, request, session, url_for
from sqlalchemy import select

from tracker.accounts.auth import ALL_ROLES, Principal
from tracker.accounts.models import User, UserArea
from tracker.accounts.service import attempt, end_sessions
from tracker.audit import service as audit
from tracker.extensions import db
from tracker.http import remote_addr

F = TypeVar("F", bound=Callable[..., Any])
WEB_DEVICE = "web"
REVIEW_ROLES = ("manager", "admin")


def principal_for(user: User) -> Principal:
    areas = frozenset(db.session.scalars(select(UserArea.code).where(UserArea.user_id == user.id)))
    return Principal(user.id, user.username, user.role, WEB_DEVICE, areas)


def current_principal() -> Principal | None:
    """The signed-in user of this request, or None."""
    if "web_principal" in g:
        return g.web_principal
    found: Principal | None = None
    user_id = session.get("uid")
    if isinstance(user_id, int):
        user = db.session.get(User, user_id)
        if user is not None and user.active and session.get("epoch") == user.session_epoch:
            found = principal_for(user)
        else:
            session.pop("uid", None)
    g.web_principal = found
    return found


def sign_in(username: str, password: str) -> tuple[User | None, int]:
    """Check the limits and the password as the API does (per account and per address), record the
    attempt, and start the session on success. Returns the user (or None) and the seconds to wait when
    refused for too many failures. The caller commits."""
    checked = attempt(username, password, remote_addr(), int(current_app.config.get("LOGIN_RATE_LIMIT") or 0))
    user = checked.user
    if user is not None:
        _fresh_session()
        session["uid"] = user.id
        session["epoch"] = user.session_epoch
        session.permanent = True
        g.pop("web_principal", None)
    return user, checked.retry_after


def sign_out() -> None:
    _fresh_session()
    g.pop("web_principal", None)


def sign_out_everywhere(who: Principal) -> None:
    """End every session of this user, this one included; the caller commits."""
    user = db.session.get(User, who.user_id)
    if user is not None:
        end_sessions(user)
        audit.record("user.sign_out_everywhere", actor_id=user.id, actor_name=user.username, device_id=WEB_DEVICE,
                     object_type="user", object_id=str(user.id))
    sign_out()


def _fresh_session() -> None:
    """A new session (no fixation across sign-in and sign-out) that keeps the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def safe_next(target: str | None) -> str | None:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def login_required(roles: tuple[str, ...] = ALL_ROLES) -> Callable[[F], F]:
    """Send anonymous visitors to the sign-in page; refuse other roles with 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = current_principal()
            if who is None:
                return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
            if who.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def may_review(who: Principal | None) -> bool:
    return who is not None and who.role in REVIEW_ROLES
