"""``GET /api/v1/health``: is the app up and the database reachable."""
from __future__ import annotations

from sqlalchemy import text

from schemas.meta import HealthSchema
from tracker.api import Blueprint
from tracker.extensions import db

blp = Blueprint("meta", __name__, url_prefix="/api/v1", description="Service status")


@blp.route("/health")
@blp.response(200, HealthSchema)
def health() -> dict[str, str]:
    db.session.execute(text("SELECT 1"))
    return {"status": "ok", "database": db.engine.dialect.name}
