"""``POST /api/v1/auth/token`` (sign in) and ``DELETE /api/v1/auth/token`` (sign out)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app

from schemas.accounts import RevokedSchema, TokenArgs, TokenSchema
from tracker.accounts import service
from tracker.accounts.auth import BEARER_DOC, auth_required, principal
from tracker.api import Blueprint
from tracker.audit import service as audit
from tracker.errors import ApiError
from tracker.extensions import db
from tracker.http import remote_addr, require_json

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Signing in")


@blp.route("/token", methods=["POST"])
@require_json
@blp.arguments(TokenArgs)
@blp.response(201, TokenSchema)
@blp.alt_response(401, description="Wrong username or password")
@blp.alt_response(429, description="Too many failed attempts; see Retry-After")
def issue(args: dict[str, Any]) -> dict[str, Any]:
    """Sign in from a device: a bearer token bound to the user and the device."""
    outcome = service.sign_in(
        args["username"], args["password"], args["device_id"], remote_addr(),
        limit=current_app.config["LOGIN_RATE_LIMIT"],
        ttl=timedelta(hours=current_app.config["TOKEN_TTL_HOURS"]),
    )
    if outcome.status == "limited":
        db.session.rollback()  # nothing to record; ends the transaction holding the sign-in lock
        raise ApiError(429, "Too many failed sign-in attempts; try again later.",
                       headers={"Retry-After": str(outcome.retry_after)})
    if outcome.status != "ok":
        db.session.commit()  # the failed attempt counts towards the limit
        if outcome.status == "device_revoked":
            raise ApiError(403, "This device has been revoked.", code="device_revoked")
        raise ApiError(401, "Wrong username or password.", code="invalid_credentials")
    issued = outcome.issued
    assert issued is not None
    audit.record("token.issue", actor_id=issued.user.id, actor_name=issued.user.username,
                 device_id=issued.device.device_id, object_type="device", object_id=issued.device.device_id)
    db.session.commit()
    return {
        "token": issued.token,
        "expires_at": issued.expires_at.isoformat(),
        "device_id": issued.device.device_id,
        "user": {"id": issued.user.id, "username": issued.user.username, "role": issued.user.role,
                 "areas": service.user_areas(issued.user)},
    }


@blp.route("/token", methods=["DELETE"])
@blp.doc(**BEARER_DOC)
@auth_required()
@blp.response(200, RevokedSchema)
def revoke() -> dict[str, Any]:
    """Sign out: the token used for this request stops working."""
    caller = principal()
    service.revoke_token(caller.token_id)
    audit.record("token.revoke", actor_id=caller.user_id, actor_name=caller.username, device_id=caller.device_id,
                 object_type="token", object_id=str(caller.token_id))
    db.session.commit()
    return {"revoked": True}
