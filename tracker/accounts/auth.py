"""Bearer-token authentication and the caller's scope.

``@auth_required(...)`` guards an API view: it answers 401 for a missing,
unknown, expired or revoked token (or a revoked device) and 403 for a role
that may not call the view. The view reads the caller from ``principal()``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from sqlalchemy import or_, select

from tracker.accounts.models import ApiToken, Device, User, UserArea
from tracker.accounts.service import hash_token
from tracker.boundaries.models import AdminUnit
from tracker.dbtypes import utcnow
from tracker.errors import ApiError
from tracker.extensions import db

F = TypeVar("F", bound=Callable[..., Any])
WRITE_ROLES = ("commune_officer", "manager", "admin")
ALL_ROLES = ("commune_officer", "viewer", "manager", "admin")
BEARER_DOC = {"security": [{"bearerAuth": []}]}


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    role: str
    device_id: str
    areas: frozenset[str]
    token_id: int = 0

    @property
    def sees_everything(self) -> bool:
        return self.role in ("manager", "admin")

    @property
    def is_manager(self) -> bool:
        """Managers (and admins) may move a status back and resolve conflicts."""
        return self.role in ("manager", "admin")

    @property
    def may_write(self) -> bool:
        return self.role in WRITE_ROLES

    def commune_scope(self) -> frozenset[str] | None:
        """Commune codes the caller may see (any set), or None for all."""
        if self.sees_everything:
            return None
        if self.role == "commune_officer":
            return self.areas
        return _communes_under(self.areas)


def _communes_under(areas: frozenset[str]) -> frozenset[str] | None:
    """A viewer's communes: named directly, or under a named district/province."""
    if not areas:
        return frozenset()
    provinces = set(db.session.scalars(
        select(AdminUnit.code).where(AdminUnit.level == "province", AdminUnit.code.in_(areas))
    ))
    if provinces:
        return None
    rows = db.session.scalars(
        select(AdminUnit.code).where(
            AdminUnit.level == "commune", or_(AdminUnit.code.in_(areas), AdminUnit.parent_code.in_(areas))
        )
    )
    return frozenset(rows) | areas


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": 'Bearer realm="api"'})


def authenticate() -> Principal:
    """The caller of this request, from its bearer token; raises 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("A bearer token is required.")
    row = db.session.execute(
        select(ApiToken, User, Device)
        .join(User, User.id == ApiToken.user_id)
        .join(Device, Device.id == ApiToken.device_pk)
        .where(ApiToken.token_hash == hash_token(token.strip()))
    ).first()
    if row is None:
        raise _unauthorized("The token is not valid.")
    api_token, user, device = row
    if api_token.revoked_at is not None or device.revoked_at is not None:
        raise _unauthorized("The token has been revoked.")
    if api_token.expires_at <= utcnow():
        raise _unauthorized("The token has expired.")
    if not user.active:
        raise _unauthorized("The account is disabled.")
    areas = frozenset(db.session.scalars(select(UserArea.code).where(UserArea.user_id == user.id)))
    return Principal(user.id, user.username, user.role, device.device_id, areas, api_token.id)


def auth_required(roles: tuple[str, ...] = ALL_ROLES) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            caller = authenticate()
            if caller.role not in roles:
                raise ApiError(403, f"The role {caller.role!r} may not do this.")
            g.principal = caller
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def principal() -> Principal:
    """The authenticated caller of the current request."""
    return g.principal
