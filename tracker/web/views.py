"""Sign-in, sign-out and the record pages (communes, households, search)."""
from __future__ import annotations

import re
from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from sync.vocabulary import STATUSES
from tracker.boundaries.service import boundary_sets
from tracker.consistent_reads import consistent_reads
from tracker.extensions import db
from tracker.households.models import Photo
from tracker.households.scope import mask_conflict, mask_national_id
from tracker.openrosa.health import waiting_files
from tracker.photos.serving import send_stored
from tracker.web import queries
from tracker.web.auth import (
    current_principal,
    login_required,
    safe_next,
    sign_in,
    sign_out,
    sign_out_everywhere,
)
from tracker.web.blueprint import BadQuery, bp, chosen_date, chosen_set, page_number, scope
from tracker.web.forms import LoginForm, LogoutForm
from tracker.web.maps import base_map
from tracker.web.svgmap import STATUS_CLASSES, Point, render_map


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
        if current_principal() is not None:
            return redirect(form.next.data or url_for("web.index"))
    error = ""
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip()
        user, wait = sign_in(username, form.password.data)
        db.session.commit()
        if user is not None:
            return redirect(safe_next(form.next.data) or url_for("web.index"))
        if wait:
            error, status = _("Too many failed attempts. Wait a quarter of an hour and try again."), 429
        else:
            error, status = _("Wrong user name or password."), 401
    elif request.method == "POST":
        status = 400
        error = _("The form has expired. Please try again.") if "csrf_token" in form.errors else \
            _("Enter your user name and password.")
    return render_template("login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    form = LogoutForm()
    if not form.validate_on_submit():
        abort(400)
    sign_out()
    return redirect(url_for("web.login"))


@bp.route("/logout/everywhere", methods=["POST"])
@login_required()
def logout_everywhere() -> Any:
    """Sign out of every browser, e.g. after using a shared computer."""
    form = LogoutForm()
    if not form.validate_on_submit():
        abort(400)
    sign_out_everywhere(current_principal())
    db.session.commit()
    return redirect(url_for("web.login"))


@bp.route("/communes/<code>")
@consistent_reads
@login_required()
def commune(code: str) -> Any:
    from tracker.web.dashboard import commune_figures

    boundary_set = chosen_set()
    unit = queries.unit(boundary_set, code, "commune") if boundary_set is not None else None
    if unit is None or not queries.commune_visible(scope(), code):
        raise BadQuery(404, _("There is no commune “%(code)s” on this map in your area.", code=code[:20]))
    as_of = chosen_date()
    parent = queries.unit(boundary_set, unit.parent_code) if unit.parent_code else None
    status = request.args.get("status", "")
    if status not in STATUSES:
        status = ""
    q = request.args.get("q", "").strip()[:100]
    flagged = request.args.get("flagged") == "1"
    page = page_number()
    rows, total = queries.households(boundary_set, scope(), commune=code, query=q, status=status, flagged=flagged,
                                     limit=queries.PAGE_SIZE, offset=(page - 1) * queries.PAGE_SIZE)
    points = [Point(lon, lat, STATUS_CLASSES.get(s, "s0"))
              for lon, lat, s, _c in queries.map_points(boundary_set, scope(), 20_000, as_of, commune=code)]
    svg = render_map(base_map(boundary_set), classes={code: "here"}, selected=None, points=points, only={code},
                     label=unit.name, element_id="communemap")
    figures, reading = commune_figures(boundary_set, code, as_of)
    return render_template(
        "commune.html", unit=unit, parent=parent, boundary_set=boundary_set, rows=rows, total=total, page=page,
        pages=max((total + queries.PAGE_SIZE - 1) // queries.PAGE_SIZE, 1), q=q, status=status, flagged=flagged,
        counts=queries.status_counts(boundary_set, code, scope()), figures=figures, reading=reading, as_of=as_of,
        svg=svg, sets=boundary_sets(), province=queries.province(boundary_set),
    )


@bp.route("/households/<household_id>")
@consistent_reads
@login_required()
def household(household_id: str) -> Any:
    detail = queries.household(household_id, scope())
    if detail is None:
        abort(404)
    boundary_set = chosen_set()
    svg = ""
    if boundary_set is not None:
        here = next((a for s, a, _ in detail.assignments if s.id == boundary_set.id), None)
        lat, lon = detail.current.lat, detail.current.lon
        if here is not None and here.details and here.details.get("lat") is not None:
            lat, lon = here.details["lat"], here.details["lon"]
        if here is not None and here.commune_code and lat is not None:
            svg = render_map(base_map(boundary_set), classes={here.commune_code: "here"},
                             points=[Point(lon, lat, STATUS_CLASSES.get(detail.current.status, "s0"))],
                             only={here.commune_code}, label=detail.current.household_head, element_id="hhmap")
    who = current_principal()
    return render_template("household.html", d=detail, svg=svg, boundary_set=boundary_set,
                           record=mask_national_id(detail.current.data or {}, who) if who else {},
                           conflicts=[mask_conflict({"field": c.field, "server_value": c.server_value,
                                                     "client_value": c.client_value, "resolved_at": c.resolved_at},
                                                    who) for c in detail.conflicts] if who else [],
                           waiting=waiting_files(household_id))


SHA = re.compile(r"^[0-9a-f]{64}$")


def _visible_photo(sha: str) -> Photo:
    """A stored photo of a household the caller may see (``?h=`` names the household)."""
    if not SHA.match(sha):
        abort(404)
    detail = queries.household(request.args.get("h", ""), scope())
    if detail is None:
        abort(404)
    photo = next((p["photo"] for ps in detail.photos.values() for p in ps if p["sha256"] == sha), None)
    if photo is None:  # not named by the household, not stored, or not the caller's to know of
        abort(404)
    return photo


@bp.route("/photos/<sha>/thumbnail")
@login_required()
def photo_thumbnail(sha: str) -> Any:
    _visible_photo(sha)
    return send_stored(sha, "image/jpeg", thumbnail=True, max_age=3600)


@bp.route("/photos/<sha>")
@login_required()
def photo(sha: str) -> Any:
    found = _visible_photo(sha)
    return send_stored(sha, found.content_type, thumbnail=False, max_age=3600)


@bp.route("/search")
@login_required()
def search() -> Any:
    boundary_set = chosen_set()
    q = request.args.get("q", "").strip()[:100]
    page = page_number()
    rows: list[queries.HouseholdRow] = []
    total = 0
    communes = []
    if q and boundary_set is not None:
        rows, total = queries.households(boundary_set, scope(), query=q, limit=queries.PAGE_SIZE,
                                         offset=(page - 1) * queries.PAGE_SIZE, count_up_to=queries.SEARCH_COUNT)
        communes = queries.search_communes(boundary_set, scope(), q)
    more = total > queries.SEARCH_COUNT
    shown = min(total, queries.SEARCH_COUNT)
    return render_template("search.html", q=q, rows=rows, total=shown, more=more, communes=communes, page=page,
                           pages=max((shown + queries.PAGE_SIZE - 1) // queries.PAGE_SIZE, 1),
                           boundary_set=boundary_set)


@bp.app_context_processor
def logout_form() -> dict[str, Any]:
    if request.blueprint != "web" or current_principal() is None:
        return {}
    return {"logout_form": LogoutForm()}
