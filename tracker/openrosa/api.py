"""``GET /api/v1/sync/health``: the managers' sync health list as JSON."""
from __future__ import annotations

from typing import Any

from schemas.openrosa import SyncHealthArgs, SyncHealthSchema
from tracker.accounts.auth import BEARER_DOC, auth_required
from tracker.api import Blueprint
from tracker.openrosa import health

blp = Blueprint("field_app", __name__, url_prefix="/api/v1", description="Field devices and their sync health")


@blp.route("/sync/health", methods=["GET"])
@blp.doc(**BEARER_DOC)
@auth_required(("manager", "admin"))
@blp.arguments(SyncHealthArgs, location="query")
@blp.response(200, SyncHealthSchema)
def health_view(args: dict[str, Any]) -> dict[str, Any]:
    """Each officer and device: last submission, waiting for photos, edits held, rejected, stale households."""
    return health.as_json(health.sync_health(args["days"]), args["days"])
