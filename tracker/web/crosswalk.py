"""The crosswalk page: for each new unit, the old communes it absorbed."""
from __future__ import annotations

from typing import Any

from flask import abort, render_template
from flask_babel import gettext as _

from tracker.boundaries.service import get_set
from tracker.crosswalks.service import CrosswalkError, current_crosswalk, link_rows
from tracker.extensions import db
from tracker.web.auth import login_required
from tracker.web.blueprint import bp, scope


@bp.route("/crosswalks/<from_name>/<to_name>")
@login_required()
def crosswalk_page(from_name: str, to_name: str) -> Any:
    old, new = get_set(from_name), get_set(to_name)
    if old is None or new is None or old.id == new.id:
        abort(404)
    try:
        row = current_crosswalk(old, new)
    except CrosswalkError as exc:
        db.session.rollback()
        message = _("These two maps do not overlap.") + " " + "; ".join(exc.problems)
        return render_template("error.html", status=422, message=message), 422
    db.session.commit()
    groups: dict[str, dict[str, Any]] = {}
    for link in link_rows(row, scope()):
        group = groups.setdefault(link.new_code, {"code": link.new_code, "name": link.new_name, "parts": []})
        group["parts"].append(link)
    return render_template("crosswalk.html", old=old, new=new, crosswalk=row, groups=list(groups.values()))
