"""An officer's list of what needs doing first: houses late, not started, or finished without photos."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import and_, select

from tracker.boundaries.models import AdminUnit, BoundarySet
from tracker.extensions import db
from tracker.households.models import HouseholdRevision, RevisionAssignment
from tracker.web.queries import Scope, in_scope, name_filter

OPEN = ("surveyed", "approved", "started")
DONE = ("completed", "handed_over")
KINDS = ("late", "not_started", "no_photos")  # most urgent first
MAX_ROWS = 5000


@dataclass(frozen=True)
class ToDo:
    id: str
    head: str
    village: str
    commune_name: str
    status: str
    kind: str
    reason: str


def _reason(kind: str, status: str, deadline: date | None, as_of: date) -> str:
    if kind == "late":
        return _("not finished, %(n)s days after the deadline", n=(as_of - deadline).days) if deadline else ""
    if kind == "not_started":
        return _("works not started")
    return _("finished, no photo after the works")


def to_do(boundary_set: BoundarySet, area: Scope, as_of: date, deadline: date | None,
          query: str = "") -> tuple[list[ToDo], dict[str, int]]:
    """Current households of the area that need something, most urgent first, and how many of each kind."""
    hr, ra = HouseholdRevision, RevisionAssignment
    commune = db.aliased(AdminUnit)
    conditions = [hr.superseded_at.is_(None), in_scope(area), hr.status.in_(OPEN + DONE)]
    if (words := name_filter(query)) is not None:
        conditions.append(words)
    rows = db.session.execute(
        select(hr.household_id, hr.household_head, hr.status, hr.data, commune.name)
        .outerjoin(ra, and_(ra.revision_id == hr.id, ra.boundary_set_id == boundary_set.id))
        .outerjoin(commune, and_(commune.boundary_set_id == boundary_set.id, commune.level == "commune",
                                 commune.code == ra.commune_code))
        .where(*conditions).order_by(hr.head_ascii, hr.household_id).limit(MAX_ROWS)
    ).all()
    late = deadline is not None and as_of > deadline
    found = []
    for household_id, head, status, data, commune_name in rows:
        data = data or {}
        if status in OPEN:
            kind = "late" if late else ("not_started" if status != "started" else "")
        else:
            after = any(isinstance(p, dict) and p.get("stage") == "after" for p in data.get("photos") or [])
            kind = "" if after else "no_photos"
        if kind:
            found.append(ToDo(household_id, head, str(data.get("village") or ""), commune_name or "", status, kind,
                              _reason(kind, status, deadline, as_of)))
    found.sort(key=lambda t: KINDS.index(t.kind))
    counts = {kind: sum(t.kind == kind for t in found) for kind in KINDS}
    return found, counts
