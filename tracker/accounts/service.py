"""Accounts, devices and tokens. Secrets are only ever stored hashed."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.accounts.models import ROLES, ApiToken, Device, User, UserArea
from tracker.dbtypes import utcnow
from tracker.extensions import db

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


def check_password(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
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
