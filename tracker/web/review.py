"""The review queue for managers: flagged commune assignments and sync conflicts."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, flash, get_flashed_messages, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, func, select

from tracker.boundaries.models import AdminUnit, BoundarySet
from tracker.errors import ApiError
from tracker.extensions import db
from tracker.households.models import Conflict, HouseholdRevision, RevisionAssignment
from tracker.web import queries
from tracker.web.auth import REVIEW_ROLES, current_principal, login_required
from tracker.web.blueprint import bp, chosen_set, page_number, scope, unit_title
from tracker.web.forms import ConfirmAssignmentForm, MoveAssignmentForm, ResolveConflictForm

PAGE = 30


@dataclass
class FlaggedItem:
    revision: HouseholdRevision
    assignment: RevisionAssignment
    commune_name: str
    candidates: list[tuple[str, str]]
    problems: list[str]
    declared_name: str


def flagged(boundary_set: BoundarySet, area: queries.Scope, offset: int, limit: int) -> tuple[list[FlaggedItem], int]:
    """Current revisions whose assignment under the set waits for review, each with its problems in words."""
    units = queries.unit_index(boundary_set)
    base = (
        select(HouseholdRevision, RevisionAssignment)
        .join(RevisionAssignment, and_(RevisionAssignment.revision_id == HouseholdRevision.id,
                                       RevisionAssignment.boundary_set_id == boundary_set.id))
        .where(HouseholdRevision.superseded_at.is_(None), RevisionAssignment.needs_review.is_(True),
               queries.in_scope(area))
    )
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    items = []
    for revision, assignment in db.session.execute(
        base.order_by(HouseholdRevision.received_at, HouseholdRevision.id).limit(limit).offset(offset)
    ):
        details = assignment.details or {}
        codes = list(dict.fromkeys([c for c in (details.get("candidates") or []) if c]
                                   + [c for c in (details.get("nearest"), revision.declared_commune,
                                                  details.get("gps_commune")) if c]))
        items.append(FlaggedItem(
            revision, assignment, _named(units, assignment.commune_code),
            [(c, _named(units, c)) for c in codes if c in units],
            problems(revision, assignment, units), _named(units, revision.declared_commune),
        ))
    return items, total


def _named(units: dict[str, queries.UnitFacts], code: str | None) -> str:
    """A commune as people name it: "Xã Chiềng Mung (Mai Sơn)"; a code no unit has stays a code."""
    if not code:
        return ""
    unit = units.get(code)
    if unit is None:
        return code
    title = unit_title(unit.unit_type, unit.name)
    return f"{title} ({unit.parent_name})" if unit.parent_name else title


def problems(revision: HouseholdRevision, assignment: RevisionAssignment,
             units: dict[str, queries.UnitFacts]) -> list[str]:
    """What is wrong with this household's location, one plain sentence each."""
    details = assignment.details or {}
    flags = details.get("flags") or ([assignment.flag] if assignment.flag else [])
    said = []
    lat, lon = revision.lat, revision.lon
    if "outside" in flags:
        if lat == 0 and lon == 0:
            said.append(_("The GPS point is 0, 0: the phone had no position fix."))
        elif details.get("nearest") and details.get("distance_m") is not None:
            said.append(_("The GPS point lies outside every commune of the province, %(km)s km from %(nearest)s.",
                          km=f"{details['distance_m'] / 1000:.1f}", nearest=_named(units, details["nearest"])))
        else:
            said.append(_("The GPS point lies outside every commune of the province."))
    if "swapped_coordinates" in flags:
        said.append(_("Latitude and longitude were swapped; put right, the point lies in %(commune)s.",
                      commune=_named(units, assignment.commune_code) or _("no commune")))
    if "ambiguous" in flags:
        others = [_named(units, c) for c in details.get("candidates") or [] if c and c != assignment.commune_code]
        said.append(_("The point is within its GPS accuracy of another commune: %(others)s.",
                      others=", ".join(others) or _("a neighbouring commune")))
    if "mismatch" in flags:
        said.append(_("The officer declared %(declared)s, but the GPS point lies in %(gps)s.",
                      declared=_named(units, revision.declared_commune),
                      gps=_named(units, details.get("gps_commune") or assignment.commune_code)))
    if details.get("low_accuracy_m") is not None:
        said.append(_("The GPS accuracy is %(m)s m: too coarse to tell the commune.",
                      m=f"{details['low_accuracy_m']:.0f}"))
    return said


def open_conflicts(area: queries.Scope, offset: int, limit: int) -> tuple[list[tuple[Conflict, HouseholdRevision]], int]:
    base = (
        select(Conflict, HouseholdRevision)
        .join(HouseholdRevision, and_(HouseholdRevision.household_id == Conflict.household_id,
                                      HouseholdRevision.superseded_at.is_(None)))
        .where(Conflict.resolved_at.is_(None), queries.in_scope(area))
    )
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = db.session.execute(base.order_by(Conflict.created_at, Conflict.id).limit(limit).offset(offset)).all()
    return [(c, r) for c, r in rows], total


@bp.route("/review")
@login_required(REVIEW_ROLES)
def review_queue() -> Any:
    return _queue_page()


def _queue_page() -> str:
    boundary_set = chosen_set()
    if boundary_set is None:
        abort(404)
    page = page_number()
    area = scope()
    items, total = flagged(boundary_set, area, (page - 1) * PAGE, PAGE)
    conflicts, conflict_total = open_conflicts(area, 0, 100)
    return render_template(
        "review.html", boundary_set=boundary_set, items=items, total=total, conflicts=conflicts,
        conflict_total=conflict_total, page=page, pages=max((total + PAGE - 1) // PAGE, 1),
        confirm_form=ConfirmAssignmentForm(), move_form=MoveAssignmentForm(), conflict_form=ResolveConflictForm(),
        messages=get_flashed_messages(with_categories=True),
    )


def _back() -> Any:
    return redirect(url_for("web.review_queue", set=request.args.get("set") or None))


def _refused(exc: ApiError) -> Any:
    """The queue again, with the reason a decision was refused, under the refusal's status (409…)."""
    db.session.rollback()
    if exc.code == "household_changed":
        flash(_("This household changed since you looked at it; look at it again before deciding."), "error")
    else:
        flash(exc.message, "error")
    return _queue_page(), exc.status


def _assignment_or_404(revision_id: int, set_id: int) -> tuple[HouseholdRevision, BoundarySet]:
    row = db.session.execute(
        select(HouseholdRevision, BoundarySet)
        .join(RevisionAssignment, RevisionAssignment.revision_id == HouseholdRevision.id)
        .join(BoundarySet, BoundarySet.id == RevisionAssignment.boundary_set_id)
        .where(RevisionAssignment.revision_id == revision_id, RevisionAssignment.boundary_set_id == set_id,
               queries.in_scope(scope()))
    ).first()
    if row is None:
        abort(404)
    return row[0], row[1]


@bp.route("/review/assignments/<int:revision_id>/<int:set_id>/confirm", methods=["POST"])
@login_required(REVIEW_ROLES)
def confirm_assignment(revision_id: int, set_id: int) -> Any:
    form = ConfirmAssignmentForm()
    if not form.validate_on_submit():
        abort(400)
    revision, boundary_set = _assignment_or_404(revision_id, set_id)
    who = current_principal()
    assert who is not None
    from tracker.web import decisions

    try:
        decisions.confirm_assignment(revision, boundary_set, who, form.note.data or "")
    except ApiError as exc:
        return _refused(exc)
    db.session.commit()
    flash(_("Assignment of %(name)s confirmed.", name=revision.household_head), "ok")
    return _back()


@bp.route("/review/assignments/<int:revision_id>/<int:set_id>/move", methods=["POST"])
@login_required(REVIEW_ROLES)
def move_assignment(revision_id: int, set_id: int) -> Any:
    form = MoveAssignmentForm()
    if not form.validate_on_submit():
        abort(400)
    revision, boundary_set = _assignment_or_404(revision_id, set_id)
    target = db.session.scalar(select(AdminUnit).where(
        AdminUnit.boundary_set_id == set_id, AdminUnit.level == "commune", AdminUnit.code == form.commune.data))
    if target is None or not queries.commune_visible(scope(), target.code):
        flash(_("There is no commune %(code)s in this boundary set.", code=form.commune.data), "error")
        return _back()
    who = current_principal()
    assert who is not None
    from tracker.web import decisions

    try:
        decisions.move_assignment(revision, boundary_set, target.code, who, form.note.data or "")
    except ApiError as exc:
        return _refused(exc)
    db.session.commit()
    flash(_("%(name)s moved to %(commune)s.", name=revision.household_head, commune=target.name), "ok")
    return _back()


@bp.route("/review/conflicts/<int:conflict_id>", methods=["POST"])
@login_required(REVIEW_ROLES)
def resolve_conflict(conflict_id: int) -> Any:
    form = ResolveConflictForm()
    if not form.validate_on_submit():
        abort(400)
    conflict = db.session.get(Conflict, conflict_id)
    if conflict is None or queries.household(conflict.household_id, scope()) is None:
        abort(404)
    if conflict.resolved_at is not None:
        flash(_("This conflict was already resolved."), "error")
        return _back()
    who = current_principal()
    assert who is not None
    from tracker.web import decisions

    try:
        decisions.resolve_conflict(conflict, form.choice.data, who, form.note.data or "")
    except ApiError as exc:
        return _refused(exc)
    db.session.commit()
    flash(_("Conflict on %(field)s resolved.", field=conflict.field), "ok")
    return _back()
