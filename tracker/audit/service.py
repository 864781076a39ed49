"""Appending to the audit log (within the caller's transaction)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tracker.audit.models import AuditEvent
from tracker.extensions import db


def record(
    action: str,
    *,
    actor_id: int | None = None,
    actor_name: str = "",
    device_id: str = "",
    object_type: str = "",
    object_id: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an event to the session; the caller's commit makes it durable."""
    event = AuditEvent(
        action=action,
        actor_id=actor_id,
        actor_name=actor_name,
        device_id=device_id,
        object_type=object_type,
        object_id=object_id,
        details=details or {},
    )
    db.session.add(event)
    return event


def append_many(
    actor_id: int | None,
    actor_name: str,
    device_id: str,
    at: datetime,
    events: Sequence[tuple[str, str, str, dict[str, Any]]],
) -> None:
    """Insert many events by one actor in one statement: ``(action, object_type, object_id, details)``."""
    if not events:
        return
    db.session.execute(AuditEvent.__table__.insert(), [
        {"at": at, "actor_id": actor_id, "actor_name": actor_name, "device_id": device_id, "action": action,
         "object_type": object_type, "object_id": object_id[:128], "details": details}
        for action, object_type, object_id, details in events
    ])
