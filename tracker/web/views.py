"""The start page: what this tracker holds."""
from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from tracker.boundaries import service as boundaries
from tracker.extensions import db
from tracker.households.models import Household
from tracker.plans.models import Plan

bp = Blueprint("web", __name__, template_folder="templates")


@bp.route("/")
def index() -> str:
    sets = [(s, boundaries.unit_counts(s.id)) for s in boundaries.boundary_sets()]
    households = db.session.scalar(select(func.count()).select_from(Household)) or 0
    plans = list(db.session.scalars(select(Plan).order_by(Plan.name)))
    return render_template("index.html", sets=sets, households=households, plans=plans)
