"""Builders for the plan, progress, map and export tests: a tiny province.

Four 0.1° communes in Son La's latitude band, in two districts:

    90001 Xã Một  (Huyện A)   90002 Xã Hai (Huyện A)
    90003 Xã Ba   (Huyện B)   90004 Xã Bốn (Huyện B)
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select

from schemas.household import HouseholdSchema, canonical
from sync.records import content_hash, revision_columns
from tests.helpers import feature, square, write_collection
from tracker.accounts.service import create_user, issue_token
from tracker.boundaries.service import get_set, import_boundary_set
from tracker.extensions import db
from tracker.households.models import Household, HouseholdRevision, RevisionAssignment
from tracker.households.service import create_households
from tracker.plans.service import add_revision

VN = timezone(timedelta(hours=7))
COMMUNES = {
    "90001": ("Xã Một", "Huyện A", (104.0, 21.0)),
    "90002": ("Xã Hai", "Huyện A", (104.1, 21.0)),
    "90003": ("Xã Ba", "Huyện B", (104.0, 21.1)),
    "90004": ("Xã Bốn", "Huyện B", (104.1, 21.1)),
}


def centre(code: str) -> tuple[float, float]:
    """(lat, lon) of the middle of a commune."""
    lon, lat = COMMUNES[code][2]
    return lat + 0.05, lon + 0.05


def load_province(tmp_path: Path, name: str = "t") -> Any:
    features = [
        feature(code, title, square(x, y, 0.1), district=district, province="Tỉnh Thử")
        for code, (title, district, (x, y)) in COMMUNES.items()
    ]
    path = write_collection(tmp_path / f"communes-{name}.geojson", features)
    import_boundary_set(name, path)
    db.session.commit()
    return get_set(name)


def plan(rows: dict[str, tuple[int, int]], effective: date, deadline: date = date(2025, 5, 19),
         name: str = "Thử 2025", set_name: str = "t", created_at: datetime | None = None) -> Any:
    """A plan revision: ``{code: (new_build, repair)}``; budgets at the national norms.

    The revision is stored as if loaded at ``created_at`` (default: the
    morning of its effective date), so ``known_at`` reports can see it.
    """
    result = add_revision(
        name, get_set(set_name),
        [{"commune_code": c, "new_build": n, "repair": r, "budget_vnd": 60_000_000 * n + 30_000_000 * r}
         for c, (n, r) in rows.items()],
        deadline=deadline, effective=effective,
    )
    if result.status == "created":
        result.revision.created_at = created_at or datetime(effective.year, effective.month, effective.day, 8,
                                                            tzinfo=VN)
    db.session.commit()
    return result


def record(commune: str = "90001", *, status: str = "completed", support_type: str = "new_build",
           dates: dict[str, str] | None = None, funding: list[tuple[str, int]] | None = None,
           lat: float | None = None, lon: float | None = None, accuracy: float = 5.0,
           declared: str | None = None, head: str = "Lò Văn Việt", national_id: str | None = "014085001234",
           **extra: Any) -> dict[str, Any]:
    """A valid household record as a phone would push it."""
    clat, clon = centre(commune)
    if dates is None:
        dates = {"approved": "2025-01-20", "started": "2025-02-10", "completed": "2025-04-10",
                 "handed_over": "2025-04-20"}
        order = ["approved", "started", "completed", "handed_over"]
        if status in order:
            dates = {k: v for k, v in dates.items() if order.index(k) <= order.index(status)}
        elif status == "withdrawn":
            dates = {"approved": "2025-01-20", "withdrawn": "2025-03-01"}
        else:
            dates = {}
    body = {
        "id": str(uuid.uuid4()),
        "household_head": head,
        "ethnicity": "Thái",
        "category": "poor",
        "members": 5,
        "national_id": national_id,
        "village": "Bản Lan Quynh",
        "declared_commune": declared or commune,
        "support_type": support_type,
        "status": status,
        "status_dates": dates,
        "funding": [{"source": s, "amount_vnd": a} for s, a in (funding or [("central_budget", 60_000_000)])],
        "location": {"lat": lat if lat is not None else clat, "lon": lon if lon is not None else clon,
                     "accuracy_m": accuracy},
        "captured_at": "2025-04-02T16:40:00+07:00",
        "note": "",
    }
    body.update(extra)
    return body


def store(records: list[dict[str, Any]], received_at: datetime) -> list[Any]:
    schema = HouseholdSchema()
    results = create_households([canonical(schema.load(r)) for r in records], received_at=received_at)
    db.session.commit()
    return results


def revise(household_id: str, received_at: datetime, **changes: Any) -> None:
    """A later revision of a household, as an accepted sync would store it."""
    current = db.session.scalar(select(HouseholdRevision).where(
        HouseholdRevision.household_id == household_id, HouseholdRevision.superseded_at.is_(None)))
    data = {**current.data, **changes}
    data = canonical(HouseholdSchema().load(data))
    current.superseded_at = received_at
    new = HouseholdRevision(
        household_id=household_id, revision=current.revision + 1, received_at=received_at, result="updated",
        content_hash=content_hash(data), data=data, **revision_columns(data),
    )
    db.session.add(new)
    db.session.flush()
    for old in current.assignments:
        db.session.add(RevisionAssignment(revision_id=new.id, boundary_set_id=old.boundary_set_id,
                                          commune_code=old.commune_code, flag=old.flag,
                                          needs_review=old.needs_review, details=old.details))
    household = db.session.get(Household, household_id)
    household.revision = new.revision
    db.session.commit()


def bearer(role: str = "manager", areas: tuple[str, ...] = (), name: str | None = None) -> dict[str, str]:
    user = create_user(name or f"{role}-{uuid.uuid4().hex[:6]}", "correct horse battery", role, list(areas))
    issued = issue_token(user, f"device-{uuid.uuid4().hex[:6]}", timedelta(hours=1))
    db.session.commit()
    return {"Authorization": f"Bearer {issued.token}"}


def at(text: str) -> datetime:
    """An instant in Vietnam time: ``at("2025-04-16 17:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=VN)
