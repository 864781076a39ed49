"""Sync health for managers: each officer and device, what is late, waiting, held or refused.

The list a manager calls through before a deadline: the last submission of
each device (OpenRosa or JSON push), submissions still waiting for photos,
edits held until the version they edit arrives, submissions refused and why,
and the households in the officer's communes not updated for ``days`` days
(those not yet handed over or withdrawn).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from tracker.accounts.models import Device, User, UserArea
from tracker.dbtypes import utcnow
from tracker.extensions import db
from tracker.households.models import HouseholdRevision
from tracker.households.scope import revision_in_scope
from tracker.openrosa.messages import missing_files
from tracker.openrosa.models import HELD, REJECTED, WAITING_FILES, OpenRosaSubmission

DONE = ("handed_over", "withdrawn")
EXAMPLES = 10


@dataclass
class DeviceHealth:
    device_id: str
    collect_key: bool
    revoked: bool
    last_seen_at: datetime | None = None
    last_submission_at: datetime | None = None
    waiting_for_photos: list[dict[str, Any]] = field(default_factory=list)
    held_edits: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class OfficerHealth:
    username: str
    role: str
    communes: list[str]
    devices: list[DeviceHealth] = field(default_factory=list)
    stale_households: int = 0
    stale: list[dict[str, Any]] = field(default_factory=list)

    @property
    def attention(self) -> int:
        """How much there is to chase (sorts the list: most first)."""
        return self.stale_households + sum(
            len(d.waiting_for_photos) + d.held_edits + len(d.rejected) for d in self.devices)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max((x for x in (a, b) if x is not None), default=None)


def _devices(user_ids: list[int]) -> dict[tuple[int, str], DeviceHealth]:
    out = {}
    for device in db.session.scalars(select(Device).where(Device.user_id.in_(user_ids)).order_by(Device.device_id)):
        if device.device_id == "web":
            continue
        out[(device.user_id, device.device_id)] = DeviceHealth(
            device.device_id, device.collect_key_hash is not None, device.revoked_at is not None, device.last_seen_at)
    return out


def _fill_submissions(devices: dict[tuple[int, str], DeviceHealth], user_ids: list[int]) -> None:
    pushes = select(HouseholdRevision.user_id, HouseholdRevision.device_id, func.max(HouseholdRevision.received_at)) \
        .where(HouseholdRevision.user_id.in_(user_ids)).group_by(HouseholdRevision.user_id, HouseholdRevision.device_id)
    for user_id, device_id, at in db.session.execute(pushes):
        if (user_id, device_id) in devices:
            health = devices[(user_id, device_id)]
            health.last_submission_at = _latest(health.last_submission_at, at)
    rows = db.session.scalars(select(OpenRosaSubmission).where(OpenRosaSubmission.user_id.in_(user_ids))
                              .order_by(OpenRosaSubmission.updated_at.desc()))
    for row in rows:
        health = devices.get((row.user_id, row.device_id))
        if health is None:
            continue
        health.last_submission_at = _latest(health.last_submission_at, row.updated_at)
        if row.state == WAITING_FILES:
            health.waiting_for_photos.append({"instance_id": row.instance_id, "household_id": row.household_id,
                                              "missing": missing_files(row), "since": row.received_at})
        elif row.state == HELD:
            health.held_edits += 1
        elif row.state == REJECTED and len(health.rejected) < EXAMPLES:
            health.rejected.append({"instance_id": row.instance_id, "at": row.updated_at, "message": row.message,
                                    "errors": row.errors})


def _stale(officer: OfficerHealth, before: datetime) -> None:
    if not officer.communes:
        return
    query = select(HouseholdRevision.household_id, HouseholdRevision.household_head, HouseholdRevision.status,
                   HouseholdRevision.received_at).where(
        HouseholdRevision.superseded_at.is_(None), HouseholdRevision.received_at < before,
        HouseholdRevision.status.not_in(DONE), revision_in_scope(HouseholdRevision, frozenset(officer.communes)))
    officer.stale_households = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    officer.stale = [{"id": r.household_id, "household_head": r.household_head, "status": r.status,
                      "updated_at": r.received_at}
                     for r in db.session.execute(query.order_by(HouseholdRevision.received_at).limit(EXAMPLES))]


def sync_health(days: int, now: datetime | None = None) -> list[OfficerHealth]:
    """Every commune officer (and every other account with a field device), most to chase first."""
    now = now or utcnow()
    users = list(db.session.scalars(select(User).where(
        (User.role == "commune_officer") | User.id.in_(select(Device.user_id).where(Device.collect_key_hash.is_not(None)))
    ).order_by(User.username)))
    ids = [u.id for u in users]
    areas: dict[int, list[str]] = defaultdict(list)
    for user_id, code in db.session.execute(select(UserArea.user_id, UserArea.code).where(UserArea.user_id.in_(ids))
                                            .order_by(UserArea.code)):
        areas[user_id].append(code)
    devices = _devices(ids)
    _fill_submissions(devices, ids)
    officers = []
    for user in users:
        officer = OfficerHealth(user.username, user.role, areas[user.id],
                                [d for (uid, _), d in devices.items() if uid == user.id])
        _stale(officer, now - timedelta(days=days))
        officers.append(officer)
    return sorted(officers, key=lambda o: (-o.attention, o.username))


def as_json(officers: list[OfficerHealth], days: int) -> dict[str, Any]:
    def device(d: DeviceHealth) -> dict[str, Any]:
        return {"device_id": d.device_id, "collect_key": d.collect_key, "revoked": d.revoked,
                "last_seen_at": d.last_seen_at, "last_submission_at": d.last_submission_at,
                "waiting_for_photos": d.waiting_for_photos, "held_edits": d.held_edits, "rejected": d.rejected}

    return {"days": days, "officers": [
        {"username": o.username, "role": o.role, "communes": o.communes, "stale_households": o.stale_households,
         "stale": o.stale, "devices": [device(d) for d in o.devices]} for o in officers]}


def waiting_files(household_id: str) -> list[str]:
    """The files field-app submissions of this household name and have not sent yet."""
    rows = db.session.scalars(select(OpenRosaSubmission).where(
        OpenRosaSubmission.household_id == household_id, OpenRosaSubmission.state == WAITING_FILES))
    return sorted(name for row in rows for name in missing_files(row))
