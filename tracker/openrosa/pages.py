"""Managers' pages for the field app: enrol a device (its Collect QR code) and the sync health list."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from tracker.accounts.models import User
from tracker.accounts.service import AccountError
from tracker.audit import service as audit
from tracker.extensions import db
from tracker.openrosa import enrol, health
from tracker.web.auth import REVIEW_ROLES, current_principal, login_required
from tracker.web.blueprint import bp


class EnrolDeviceForm(FlaskForm):
    username = SelectField(_l("Officer"), validators=[DataRequired()])
    device_id = StringField(_l("Device name"), validators=[Optional(), Length(max=128),
                                                          Regexp(r"^[0-9A-Za-z:_.-]+$")])


def _officers() -> list[tuple[str, str]]:
    users = db.session.scalars(select(User).where(User.role.in_(enrol.FIELD_ROLES), User.active.is_(True))
                               .order_by(User.username))
    return [(u.username, u.username) for u in users]


@bp.route("/devices/enrol", methods=["GET", "POST"])
@login_required(REVIEW_ROLES)
def enrol_device() -> Any:
    form = EnrolDeviceForm()
    form.username.choices = _officers()
    error = None
    if form.validate_on_submit():
        base = current_app.config.get("PUBLIC_URL") or request.host_url
        try:
            enrolment = enrol.enrol(form.username.data, base, form.device_id.data or None)
        except AccountError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            who = current_principal()
            assert who is not None
            audit.record("device.enroll", actor_id=who.user_id, actor_name=who.username, object_type="device",
                         object_id=enrolment.device.device_id, details={"username": enrolment.user.username})
            db.session.commit()
            qr = Markup(enrol.qr_svg(enrolment.qr_payload()))  # noqa: S704 (segno's own SVG, no user markup)
            return render_template("device_enrolled.html", enrolment=enrolment, qr=qr)
    elif request.method == "POST":
        error = _("Choose an officer; a device name uses letters, digits and - _ . : only.")
    return render_template("device_enrol.html", form=form, error=error), 400 if error else 200


@bp.route("/sync-health")
@login_required(REVIEW_ROLES)
def sync_health() -> Any:
    try:
        days = int(request.args.get("days", "14"))
    except ValueError:
        abort(400)
    if not 1 <= days <= 365:
        abort(400)
    return render_template("sync_health.html", officers=health.sync_health(days), days=days)
