"""Enrolling a field device: its own key, its server URL and Collect's settings QR code.

The QR code holds Collect's own settings format: JSON of ``{"general",
"admin", "project"}``, zlib-compressed and base64-encoded, as ODK Central
makes it for its app users. The key is shown once; only its hash is kept.
"""
from __future__ import annotations

import base64
import json
import secrets
import zlib
from dataclasses import dataclass
from typing import Any

import segno
from sqlalchemy import select

from tracker.accounts.models import Device, User
from tracker.accounts.service import AccountError, hash_token
from tracker.dbtypes import utcnow
from tracker.extensions import db

FIELD_ROLES = ("commune_officer", "manager", "admin")


@dataclass
class Enrolment:
    user: User
    device: Device
    key: str
    server_url: str

    def settings(self) -> dict[str, Any]:
        return collect_settings(self.server_url, self.user.username)

    def qr_payload(self) -> str:
        return encode_settings(self.settings())


def collect_settings(server_url: str, username: str) -> dict[str, Any]:
    """Collect's settings: this server, forms kept exactly as published, sent at once, in Vietnamese."""
    return {
        "general": {
            "server_url": server_url,
            "form_update_mode": "match_exactly",
            "periodic_form_updates_check": "every_one_hour",
            "autosend": "wifi_and_cellular",
            "app_language": "vi",
            "metadata_username": username,
        },
        "admin": {"change_server": False},
        "project": {"name": "Xóa nhà tạm", "icon": "🏠", "color": "#1f6f43"},
    }


def encode_settings(settings: dict[str, Any]) -> str:
    raw = json.dumps(settings, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(zlib.compress(raw)).decode("ascii")


def decode_settings(payload: str) -> dict[str, Any]:
    return json.loads(zlib.decompress(base64.b64decode(payload)).decode("utf-8"))


def qr_png(payload: str, scale: int = 6) -> bytes:
    import io

    out = io.BytesIO()
    segno.make(payload, error="l", micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_svg(payload: str, scale: int = 5) -> str:
    import io

    out = io.BytesIO()
    segno.make(payload, error="l", micro=False).save(out, kind="svg", scale=scale, border=4, xmldecl=False,
                                                     svgns=True, title="ODK Collect")
    return out.getvalue().decode("utf-8")


def server_url(base_url: str, key: str) -> str:
    return f"{base_url.rstrip('/')}/openrosa/key/{key}"


def enrol(username: str, base_url: str, device_id: str | None = None) -> Enrolment:
    """A new key for a device of ``username`` (the device is created when new); the caller commits."""
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise AccountError(f"no user {username!r}")
    if user.role not in FIELD_ROLES:
        raise AccountError(f"a {user.role} does not send households from the field")
    if not user.active:
        raise AccountError(f"user {username!r} is disabled")
    device_id = (device_id or f"collect-{secrets.token_hex(4)}").strip()
    if not device_id or len(device_id) > 128:
        raise AccountError("the device id must be 1 to 128 characters")
    device = db.session.scalar(select(Device).where(Device.user_id == user.id, Device.device_id == device_id))
    if device is None:
        device = Device(user_id=user.id, device_id=device_id, created_at=utcnow())
        db.session.add(device)
    elif device.revoked_at is not None:
        raise AccountError(f"device {device_id!r} has been revoked; enrol it under a new id")
    key = secrets.token_urlsafe(32)
    device.collect_key_hash = hash_token(key)
    db.session.flush()
    return Enrolment(user, device, key, server_url(base_url, key))
