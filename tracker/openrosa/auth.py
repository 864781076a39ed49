"""Who is calling the OpenRosa server: a device key in the URL, or HTTP Basic.

``BASE/openrosa/key/<key>/…`` carries an enrolled device's own key (stored
hashed, revoked with the device). ``BASE/openrosa/…`` takes the officer's
account by HTTP Basic, meant for HTTPS deployments; failures count towards
the same sign-in rate limit as the API.
"""
from __future__ import annotations

import base64
import binascii

from flask import current_app
from sqlalchemy import select

from tracker.accounts.auth import Principal
from tracker.accounts.models import Device, LoginAttempt, User, UserArea
from tracker.accounts.service import check_password, hash_token, rate_limited
from tracker.dbtypes import utcnow
from tracker.extensions import db
from tracker.http import remote_addr
from tracker.openrosa.xml import OpenRosaError

BASIC_DEVICE_PREFIX = "collect:"  # the device row of an account signing in by HTTP Basic
CHALLENGE = {"WWW-Authenticate": 'Basic realm="openrosa", charset="UTF-8"'}


def principal_of(user: User, device_id: str) -> Principal:
    areas = frozenset(db.session.scalars(select(UserArea.code).where(UserArea.user_id == user.id)))
    return Principal(user.id, user.username, user.role, device_id, areas)


def by_key(key: str) -> Principal:
    row = db.session.execute(
        select(Device, User).join(User, User.id == Device.user_id)
        .where(Device.collect_key_hash == hash_token(key))
    ).first()
    if row is None:
        raise OpenRosaError(401, "Khóa thiết bị không hợp lệ. Hãy quét lại mã QR do cán bộ quản lý cấp.")
    device, user = row
    if device.revoked_at is not None:
        raise OpenRosaError(401, "Thiết bị này đã bị thu hồi quyền gửi dữ liệu. Hãy liên hệ cán bộ quản lý.")
    if not user.active:
        raise OpenRosaError(401, "Tài khoản của cán bộ đã bị khóa.")
    return principal_of(user, device.device_id)


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (username, password) if sep else None


def by_basic(header: str) -> Principal:
    credentials = _basic_credentials(header)
    if credentials is None:
        raise OpenRosaError(401, "Cần đăng nhập bằng tài khoản cán bộ.", CHALLENGE)
    username, password = credentials
    username = username.strip()[:100]
    wait = rate_limited(username, remote_addr(), current_app.config["LOGIN_RATE_LIMIT"])
    if wait:
        raise OpenRosaError(401, f"Đăng nhập sai quá nhiều lần; thử lại sau {wait} giây.",
                            {**CHALLENGE, "Retry-After": str(wait)})
    user = check_password(username, password)
    db.session.add(LoginAttempt(username=username, remote_addr=remote_addr(), success=user is not None,
                                attempted_at=utcnow()))
    db.session.commit()
    if user is None:
        raise OpenRosaError(401, "Sai tên đăng nhập hoặc mật khẩu.", CHALLENGE)
    device_id = BASIC_DEVICE_PREFIX + user.username
    device = db.session.scalar(select(Device).where(Device.user_id == user.id, Device.device_id == device_id))
    if device is None:
        db.session.add(Device(user_id=user.id, device_id=device_id))
        db.session.commit()
    elif device.revoked_at is not None:
        raise OpenRosaError(401, "Thiết bị này đã bị thu hồi quyền gửi dữ liệu. Hãy liên hệ cán bộ quản lý.")
    return principal_of(user, device_id)


def authenticate(key: str | None, authorization: str) -> Principal:
    return by_key(key) if key is not None else by_basic(authorization)
