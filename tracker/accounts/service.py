"""Accounts, devices and tokens. Secrets are only ever stored hashed."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.accounts.models import ROLES, ApiToken, Device, LoginAttempt, User, UserArea
from tracker.dbtypes import utcnow
from tracker.extensions import db
from tracker.households import locks

MIN_PASSWORD = 8


class AccountError(ValueError):
    """A request about accounts that cannot be carried out."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_user(username: str, password: str, role: str, areas: list[str]) -> User:
    """A new account; the caller commits."""
    username = username.strip()
    if not username or len(username) > 100:
        raise AccountError("username must be 1 to 100 characters")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password must be at least {MIN_PASSWORD} characters")
    if role == "commune_officer" and not areas:
        raise AccountError("a commune officer needs at least one --commune")
    if db.session.scalar(select(User).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} already exists")
    user = User(username=username, password_hash=generate_password_hash(password), role=role)
    user.areas = [UserArea(code=code.strip()) for code in dict.fromkeys(areas) if code.strip()]
    db.session.add(user)
    db.session.flush()
    return user


def end_sessions(user: User) -> None:
    """Sign the user out of every browser: sessions from before now stop working. The caller commits."""
    user.session_epoch += 1


def set_password(user: User, password: str) -> int:
    """A new password: every web session and every API token of the user ends. The caller commits.

    Returns how many tokens were revoked.
    """
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password must be at least {MIN_PASSWORD} characters")
    user.password_hash = generate_password_hash(password)
    end_sessions(user)
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
    now = utcnow()
    count = 0
    for token in tokens:
        token.revoked_at = now
        count += 1
    return count


_DUMMY_HASH = generate_password_hash("not-a-password")


def check_password(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)  # the same work whether or not the account exists
        return None
    if not user.active or not check_password_hash(user.password_hash, password):
        return None
    return user


@dataclass
class IssuedToken:
    token: str
    expires_at: datetime
    user: User
    device: Device


def issue_token(user: User, device_id: str, ttl: timedelta) -> IssuedToken:
    """A bearer token bound to the user and the device; the caller commits."""
    device = db.session.scalar(select(Device).where(Device.user_id == user.id, Device.device_id == device_id))
    if device is None:
        device = Device(user_id=user.id, device_id=device_id)
        db.session.add(device)
        db.session.flush()
    if device.revoked_at is not None:
        raise AccountError("this device has been revoked")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(ApiToken(token_hash=hash_token(token), user_id=user.id, device_pk=device.id,
                            created_at=now, expires_at=now + ttl))
    device.last_seen_at = now
    return IssuedToken(token, now + ttl, user, device)


def revoke_device(device_id: str, username: str | None = None) -> int:
    """Revoke a device and all its tokens; returns how many devices."""
    query = select(Device).where(Device.device_id == device_id)
    if username:
        query = query.join(User, User.id == Device.user_id).where(User.username == username)
    now = utcnow()
    devices = list(db.session.scalars(query))
    for device in devices:
        device.revoked_at = now
        for token in db.session.scalars(select(ApiToken).where(ApiToken.device_pk == device.id)):
            token.revoked_at = token.revoked_at or now
    return len(devices)


# ---- signing in -----------------------------------------------------------------

RATE_WINDOW = timedelta(minutes=15)
ADDRESS_FACTOR = 10  # many officers share one carrier address: be generous per address


@dataclass
class SignIn:
    """The outcome of one sign-in attempt."""

    status: str  # "ok" | "invalid" | "limited" | "device_revoked"
    issued: IssuedToken | None = None
    retry_after: int = 0


def _failures_since(column: Any, value: str, since: datetime, reset_by_success: bool) -> list[datetime]:
    start = since
    if reset_by_success:
        last_success = db.session.scalar(
            select(func.max(LoginAttempt.attempted_at)).where(column == value, LoginAttempt.success.is_(True),
                                                              LoginAttempt.attempted_at >= since)
        )
        start = max(since, last_success) if last_success else since
    return list(db.session.scalars(
        select(LoginAttempt.attempted_at).where(column == value, LoginAttempt.success.is_(False),
                                                LoginAttempt.attempted_at > start)
        .order_by(LoginAttempt.attempted_at)
    ))


def rate_limited(username: str, remote_addr: str, limit: int, now: datetime | None = None) -> int:
    """Seconds to wait before trying again (0 when the attempt may go ahead).

    Failed attempts are counted in the ``login_attempts`` table, so the limit
    holds across every worker: ``limit`` failures per account, and ten times
    that per address, in a sliding 15-minute window. A success resets the
    account's count, never the address's: one good password known to an
    attacker must not buy endless guesses at other accounts.
    """
    now = now or utcnow()
    since = now - RATE_WINDOW
    for column, value, allowed, resets in ((LoginAttempt.username, username, limit, True),
                                           (LoginAttempt.remote_addr, remote_addr, limit * ADDRESS_FACTOR, False)):
        if not value:
            continue
        failures = _failures_since(column, value, since, resets)
        if len(failures) >= allowed:
            oldest_counted = failures[len(failures) - allowed]
            return max(1, int((oldest_counted + RATE_WINDOW - now).total_seconds()) + 1)
    return 0


@dataclass
class Attempt:
    """A counted sign-in attempt: the user when the password was right, or the wait when refused."""

    user: User | None
    retry_after: int = 0


def attempt(username: str, password: str, remote_addr: str, limit: int, now: datetime | None = None) -> Attempt:
    """Check the limits and the password, and record the attempt: the one sign-in check of the API and the pages.

    The account's and the address's counters are locked first (until the
    caller commits or rolls back), so concurrent guesses are counted one
    after the other and never exceed the limit.
    """
    now = now or utcnow()
    username = username.strip()[:100]
    if limit > 0:
        locks.lock(locks.NS_SIGN_IN, [f"user\x00{username}", f"address\x00{remote_addr}"])
        wait = rate_limited(username, remote_addr, limit, now)
        if wait:
            return Attempt(None, wait)
    user = check_password(username, password)
    db.session.add(LoginAttempt(username=username, remote_addr=remote_addr, success=user is not None,
                                attempted_at=now))
    return Attempt(user)


def sign_in(username: str, password: str, device_id: str, remote_addr: str, *, limit: int,
            ttl: timedelta) -> SignIn:
    """Check the password and issue a token; every attempt is recorded. The caller commits."""
    now = utcnow()
    checked = attempt(username, password, remote_addr, limit, now)
    if checked.retry_after:
        return SignIn("limited", retry_after=checked.retry_after)
    if checked.user is None:
        return SignIn("invalid")
    try:
        issued = issue_token(checked.user, device_id, ttl)
    except AccountError:
        return SignIn("device_revoked")
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < now - timedelta(days=1)))
    return SignIn("ok", issued)


def revoke_token(token_id: int) -> None:
    token = db.session.get(ApiToken, token_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()


def user_areas(user: User) -> list[str]:
    return sorted(area.code for area in user.areas)
