"""Read-only queries behind the pages: communes, households, search.

Every query takes the caller's commune scope (``None`` = everything) so a
page can never show a household or a commune outside it. A household is in
scope when its current revision is assigned (under any boundary set) or
declared to a commune in scope.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, false, func, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from sync.vocabulary import PHOTO_STAGES as STAGES
from sync.vocabulary import STATUSES
from tracker.boundaries.models import AdminUnit, BoundarySet
from tracker.boundaries.service import unit_counts
from tracker.extensions import db
from tracker.households.models import Conflict, Household, HouseholdRevision, Photo, RevisionAssignment
from tracker.households.scope import revision_in_scope
from tracker.photos.service import known_among
from tracker.progress.pace import status_on
from tracker.text import fold
from tracker.web.auth import current_principal

Scope = frozenset[str] | None
PAGE_SIZE = 50
SEARCH_COUNT = 1000  # a search tells how many households match up to this many, then "more than"


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def name_filter(query: str) -> ColumnElement[bool] | None:
    """Every word of the query, folded, somewhere in the folded name ("lo viet" finds "Lò Văn Việt")."""
    words = fold(query).split()
    if not words:
        return None
    return and_(*(HouseholdRevision.head_ascii.like(f"%{_like_escape(w)}%", escape="\\") for w in words[:6]))


def in_scope(scope: Scope) -> ColumnElement[bool]:
    """A condition on ``HouseholdRevision``: the caller may see it (the households service's rule)."""
    if scope is None:
        return true()
    if not scope:
        return false()
    return revision_in_scope(HouseholdRevision, scope)


def commune_visible(scope: Scope, code: str) -> bool:
    return scope is None or code in scope


@dataclass
class HouseholdRow:
    id: str
    head: str
    village: str
    support_type: str
    status: str
    status_date: Any
    commune_code: str | None
    commune_name: str
    flags: list[str]
    needs_review: bool
    open_conflicts: int


_STATUS_DATE = {
    "surveyed": "surveyed_on", "approved": "approved_on", "started": "started_on",
    "completed": "completed_on", "handed_over": "handed_over_on", "withdrawn": "withdrawn_on",
}


def _open_conflicts(ids: Iterable[str]) -> dict[str, int]:
    ids = list(ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Conflict.household_id, func.count()).where(
            Conflict.household_id.in_(ids), Conflict.resolved_at.is_(None)
        ).group_by(Conflict.household_id)
    ).all()
    return {household_id: count for household_id, count in rows}


def households(
    boundary_set: BoundarySet | None,
    scope: Scope,
    *,
    commune: str | None = None,
    query: str = "",
    status: str = "",
    flagged: bool = False,
    limit: int = PAGE_SIZE,
    offset: int = 0,
    count_up_to: int | None = None,
) -> tuple[list[HouseholdRow], int]:
    """Current households (one page of them) and how many match in all.

    With ``count_up_to``, matches are counted up to one more than it: a
    search matching most of a country's households stops counting there.
    """
    set_id = boundary_set.id if boundary_set is not None else -1
    commune_unit = db.aliased(AdminUnit)
    conditions: list[ColumnElement[bool]] = [HouseholdRevision.superseded_at.is_(None), in_scope(scope)]
    if commune:
        conditions.append(RevisionAssignment.commune_code == commune)
    if (words := name_filter(query)) is not None:
        conditions.append(words)
    if status:
        conditions.append(HouseholdRevision.status == status)
    if flagged:
        conditions.append(RevisionAssignment.flag.is_not(None))
    base = (
        select(HouseholdRevision, RevisionAssignment, commune_unit.name)
        .outerjoin(RevisionAssignment, and_(RevisionAssignment.revision_id == HouseholdRevision.id,
                                            RevisionAssignment.boundary_set_id == set_id))
        .outerjoin(commune_unit, and_(commune_unit.boundary_set_id == set_id, commune_unit.level == "commune",
                                      commune_unit.code == RevisionAssignment.commune_code))
        .where(*conditions)
    )
    counted = base if count_up_to is None else base.limit(count_up_to + 1)
    total = db.session.scalar(select(func.count()).select_from(counted.subquery())) or 0
    rows = db.session.execute(
        base.order_by(HouseholdRevision.head_ascii, HouseholdRevision.household_id).limit(limit).offset(offset)
    ).all()
    conflicts = _open_conflicts(r[0].household_id for r in rows)
    out = []
    for revision, assignment, commune_name in rows:
        flags = list((assignment.details or {}).get("flags") or ([assignment.flag] if assignment.flag else [])) \
            if assignment is not None else []
        out.append(HouseholdRow(
            id=revision.household_id,
            head=revision.household_head,
            village=str((revision.data or {}).get("village") or ""),
            support_type=revision.support_type,
            status=revision.status,
            status_date=getattr(revision, _STATUS_DATE.get(revision.status, "surveyed_on"), None),
            commune_code=assignment.commune_code if assignment is not None else None,
            commune_name=commune_name or "",
            flags=flags,
            needs_review=bool(assignment is not None and assignment.needs_review),
            open_conflicts=conflicts.get(revision.household_id, 0),
        ))
    return out, total


def unit(boundary_set: BoundarySet, code: str, level: str | None = None) -> AdminUnit | None:
    query = select(AdminUnit).where(AdminUnit.boundary_set_id == boundary_set.id, AdminUnit.code == code)
    if level:
        query = query.where(AdminUnit.level == level)
    return db.session.scalars(query.order_by(AdminUnit.level)).first()


def unit_names(boundary_set: BoundarySet, level: str | None = None) -> dict[str, str]:
    query = select(AdminUnit.code, AdminUnit.name).where(AdminUnit.boundary_set_id == boundary_set.id)
    if level:
        query = query.where(AdminUnit.level == level)
    return {code: name for code, name in db.session.execute(query)}


def status_counts(boundary_set: BoundarySet, code: str, scope: Scope) -> dict[str, int]:
    """Current households of one commune by status."""
    rows = db.session.execute(
        select(HouseholdRevision.status, func.count())
        .join(RevisionAssignment, RevisionAssignment.revision_id == HouseholdRevision.id)
        .where(HouseholdRevision.superseded_at.is_(None), RevisionAssignment.boundary_set_id == boundary_set.id,
               RevisionAssignment.commune_code == code, in_scope(scope))
        .group_by(HouseholdRevision.status)
    ).all()
    return {status: count for status, count in rows}


def map_points(
    boundary_set: BoundarySet, scope: Scope, limit: int, as_of: date, commune: str | None = None
) -> list[tuple[float, float, str, str | None]]:
    """Current households as (lon, lat, status on ``as_of``, commune) for a map; at most ``limit``.

    A household not yet in the programme on ``as_of`` is not drawn; the
    others take the status they had that day, as the report's counts do.
    """
    hr = HouseholdRevision
    query = (
        select(hr.lon, hr.lat, RevisionAssignment.details, RevisionAssignment.commune_code,
               *(getattr(hr, f"{s}_on") for s in STATUSES))
        .outerjoin(RevisionAssignment, and_(RevisionAssignment.revision_id == hr.id,
                                            RevisionAssignment.boundary_set_id == boundary_set.id))
        .where(hr.superseded_at.is_(None), in_scope(scope))
    )
    if commune is not None:
        query = query.where(RevisionAssignment.commune_code == commune)
    out = []
    for lon, lat, details, code, *dates in db.session.execute(query.limit(limit + 1)):
        status = status_on(dates, as_of)
        # a recognised lat/lon swap is drawn where the household really is
        if details and "swapped_coordinates" in (details.get("flags") or []) and details.get("lat") is not None:
            lat, lon = details["lat"], details["lon"]
        if status is not None and lon is not None and lat is not None:
            out.append((lon, lat, status, code))
    return out


@dataclass
class HouseholdDetail:
    household: Household
    current: HouseholdRevision
    revisions: list[HouseholdRevision]
    assignments: list[tuple[BoundarySet, RevisionAssignment, str]]
    conflicts: list[Conflict]
    photos: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def household(household_id: str, scope: Scope) -> HouseholdDetail | None:
    """One household with its history, or None when missing or out of scope."""
    current = db.session.scalar(
        select(HouseholdRevision).where(HouseholdRevision.household_id == household_id,
                                        HouseholdRevision.superseded_at.is_(None), in_scope(scope))
    )
    if current is None:
        return None
    record = db.session.get(Household, household_id)
    revisions = list(db.session.scalars(
        select(HouseholdRevision).where(HouseholdRevision.household_id == household_id)
        .order_by(HouseholdRevision.revision.desc())
    ))
    assignments = []
    for assignment, boundary_set in db.session.execute(
        select(RevisionAssignment, BoundarySet).join(BoundarySet, BoundarySet.id == RevisionAssignment.boundary_set_id)
        .where(RevisionAssignment.revision_id == current.id).order_by(BoundarySet.name)
    ):
        name = ""
        if assignment.commune_code:
            found = unit(boundary_set, assignment.commune_code, "commune")
            name = found.name if found else ""
        assignments.append((boundary_set, assignment, name))
    conflicts = list(db.session.scalars(
        select(Conflict).where(Conflict.household_id == household_id).order_by(Conflict.created_at.desc())
    ))
    photos: dict[str, list[dict[str, Any]]] = {stage: [] for stage in STAGES}
    listed = [p for p in (current.data or {}).get("photos") or [] if isinstance(p, dict)]
    # Shown as stored only when the signed-in user may know of it (the API's photo rule).
    who = current_principal()
    known = known_among(who, [str(p.get("sha256", "")) for p in listed]) if listed and who else set()
    stored = {p.sha256: p for p in db.session.scalars(select(Photo).where(Photo.sha256.in_(sorted(known))))}
    for item in listed:
        sha = str(item.get("sha256", ""))
        photos.setdefault(str(item.get("stage") or "before"), []).append(
            {"sha256": sha, "taken_at": item.get("taken_at"), "stored": sha in stored, "photo": stored.get(sha)}
        )
    return HouseholdDetail(record, current, revisions, assignments, conflicts, photos)  # type: ignore[arg-type]


def communes_in_scope(boundary_set: BoundarySet, scope: Scope) -> list[AdminUnit]:
    query = select(AdminUnit).where(AdminUnit.boundary_set_id == boundary_set.id, AdminUnit.level == "commune")
    if scope is not None:
        query = query.where(AdminUnit.code.in_(sorted(scope)))
    return list(db.session.scalars(query.order_by(AdminUnit.name_ascii, AdminUnit.code)))


def search_communes(boundary_set: BoundarySet, scope: Scope, query: str, limit: int = 20) -> list[AdminUnit]:
    words = fold(query).split()
    if not words:
        return []
    condition = and_(*(func.lower(AdminUnit.name_ascii).like(f"%{_like_escape(w)}%", escape="\\") for w in words[:6]))
    stmt = select(AdminUnit).where(AdminUnit.boundary_set_id == boundary_set.id, AdminUnit.level == "commune",
                                   or_(condition, AdminUnit.code == query.strip()))
    if scope is not None:
        stmt = stmt.where(AdminUnit.code.in_(sorted(scope)))
    return list(db.session.scalars(stmt.order_by(AdminUnit.name_ascii).limit(limit)))


def has_level(boundary_set: BoundarySet, level: str) -> bool:
    return unit_counts(boundary_set.id).get(level, 0) > 0


@dataclass(frozen=True)
class UnitFacts:
    """What a page shows beside a unit's name: its type (xã, phường, thị trấn) and its parent."""

    code: str
    name: str
    unit_type: str
    parent_code: str | None
    parent_name: str


def unit_index(boundary_set: BoundarySet) -> dict[str, UnitFacts]:
    """Every commune and district of the set by code, with its type and parent's name."""
    rows = db.session.execute(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.unit_type, AdminUnit.parent_code, AdminUnit.level)
        .where(AdminUnit.boundary_set_id == boundary_set.id)
    ).all()
    names = {(level, code): name for code, name, _t, _p, level in rows}
    return {
        code: UnitFacts(code, name, unit_type or "", parent,
                        names.get(("district", parent)) or names.get(("province", parent)) or "")
        for code, name, unit_type, parent, level in rows if level in ("commune", "district")
    }


def province(boundary_set: BoundarySet) -> AdminUnit | None:
    return db.session.scalars(select(AdminUnit).where(AdminUnit.boundary_set_id == boundary_set.id,
                                                      AdminUnit.level == "province")).first()
