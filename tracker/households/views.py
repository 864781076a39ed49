"""The sync protocol over HTTP: push, pull, receipt, households and conflicts.

Views parse (schemas), call a service and answer; the request commits once.
Answers are dumped by the schemas passed to ``@blp.response``, which the
OpenAPI document is built from. The push answer alone is encoded directly
(it is large and already JSON-ready); a test holds it equal to its schema's
dump.
"""
from __future__ import annotations

from typing import Any

from flask import Response, current_app

from schemas.sync import (
    ConfirmArgs,
    ConflictListSchema,
    ConflictQueryArgs,
    HouseholdOutSchema,
    MoveArgs,
    PullArgs,
    PullResponseSchema,
    PushArgs,
    PushResponseSchema,
    ReceiptArgs,
    ReceiptResponseSchema,
    ResolveArgs,
    ResolveResponseSchema,
)
from tracker import jsoncodec
from tracker.accounts.auth import BEARER_DOC, WRITE_ROLES, auth_required, principal
from tracker.api import Blueprint
from tracker.consistent_reads import consistent_reads
from tracker.errors import ApiError
from tracker.extensions import db
from tracker.households import conflicts, ledger, pull, push, read, review
from tracker.http import require_json

blp = Blueprint("sync", __name__, url_prefix="/api/v1", description="Sync protocol and household records")


def _too_many(count: int) -> None:
    limit = current_app.config["PUSH_MAX_RECORDS"]
    if count > limit:
        raise ApiError(413, f"A batch holds at most {limit} records; this one has {count}.",
                       code="too_many_records", fields={"households": [f"At most {limit} records per batch."]})


@blp.route("/sync/push", methods=["POST"])
@blp.doc(**BEARER_DOC)
@auth_required(WRITE_ROLES)
@require_json
@blp.arguments(PushArgs)
@blp.response(200, PushResponseSchema)
@blp.alt_response(413, description="Body too large, or more than PUSH_MAX_RECORDS records")
@blp.alt_response(415, description="The body is not JSON")
def push_view(args: dict[str, Any]) -> Response:
    """Push a batch of household records; one result per record.

    Resending a batch (same ``device_id`` and ``batch_id``) returns the same
    answer and changes nothing.
    """
    caller = principal()
    if args["device_id"] != caller.device_id:
        raise ApiError(403, "device_id is not the device this token was issued to.",
                       fields={"device_id": ["Does not match the token's device."]})
    _too_many(len(args["households"]))
    answer = push.push(caller, args["batch_id"], args["households"])
    db.session.commit()
    # Serialised once, unsorted: the answer is large and already JSON-ready.
    return Response(jsoncodec.dumps_bytes(answer), mimetype="application/json")


@blp.route("/sync/pull", methods=["GET"])
@blp.doc(**BEARER_DOC)
@auth_required()
@blp.arguments(PullArgs, location="query")
@blp.response(200, PullResponseSchema)
def pull_view(args: dict[str, Any]) -> dict[str, Any]:
    """Households, communes and plan targets in the caller's scope changed since ``cursor``."""
    return pull.pull(principal(), args["cursor"], args["limit"])


@blp.route("/sync/receipt", methods=["POST"])
@blp.doc(**BEARER_DOC)
@auth_required()
@require_json
@blp.arguments(ReceiptArgs)
@blp.response(200, ReceiptResponseSchema)
def receipt_view(args: dict[str, Any]) -> dict[str, Any]:
    """Which records (and revisions) and photos the server holds: safe to delete on the phone."""
    ids = [str(i) for i in args["households"]]
    return pull.receipt(principal(), ids, args["photos"])


@blp.route("/households/<uuid:household_id>", methods=["GET"])
@consistent_reads
@blp.doc(**BEARER_DOC)
@auth_required()
@blp.response(200, HouseholdOutSchema)
def household_view(household_id: Any) -> dict[str, Any]:
    """One household as the server holds it: revision, commune, assignment and history."""
    return read.household(principal(), str(household_id))


@blp.route("/households/<uuid:household_id>/assignments/<set_name>/confirm", methods=["POST"])
@blp.doc(**BEARER_DOC)
@auth_required(("manager", "admin"))
@require_json
@blp.arguments(ConfirmArgs)
@blp.response(200, HouseholdOutSchema)
@blp.alt_response(409, description="The household changed since the given revision")
def confirm_view(args: dict[str, Any], household_id: Any, set_name: str) -> dict[str, Any]:
    """Confirm the household's commune under a boundary set (managers).

    The decision lasts: later revisions keep this commune, and it no longer
    waits for review, until a new GPS point lands in another commune.
    """
    answer = review.decide(principal(), str(household_id), set_name, ledger.CONFIRM, args["revision"], args["note"])
    db.session.commit()
    return answer


@blp.route("/households/<uuid:household_id>/assignments/<set_name>/move", methods=["POST"])
@blp.doc(**BEARER_DOC)
@auth_required(("manager", "admin"))
@require_json
@blp.arguments(MoveArgs)
@blp.response(200, HouseholdOutSchema)
@blp.alt_response(409, description="The household changed since the given revision")
def move_view(args: dict[str, Any], household_id: Any, set_name: str) -> dict[str, Any]:
    """Move the household to another commune of a boundary set (managers).

    The decision lasts: an officer's later push keeps the household there; a
    new GPS point in another commune sends it back to review with both shown.
    """
    answer = review.decide(principal(), str(household_id), set_name, ledger.MOVE, args["revision"], args["note"],
                           commune=args["commune"])
    db.session.commit()
    return answer


@blp.route("/conflicts", methods=["GET"])
@blp.doc(**BEARER_DOC)
@auth_required()
@blp.arguments(ConflictQueryArgs, location="query")
@blp.response(200, ConflictListSchema)
def conflicts_view(args: dict[str, Any]) -> dict[str, Any]:
    """Conflicts left by merges, for review (in the caller's scope)."""
    household_id = str(args["household_id"]) if args.get("household_id") else None
    return conflicts.list_conflicts(principal(), args["status"], household_id, args["limit"], args["offset"])


@blp.route("/conflicts/<int:conflict_id>/resolve", methods=["POST"])
@blp.doc(**BEARER_DOC)
@auth_required(("manager", "admin"))
@require_json
@blp.arguments(ResolveArgs)
@blp.response(200, ResolveResponseSchema)
def resolve_view(args: dict[str, Any], conflict_id: int) -> dict[str, Any]:
    """Settle a conflict (managers): keep the server's value, the client's, or a given value."""
    answer = conflicts.resolve(principal(), conflict_id, args["keep"], args.get("value"), args["note"],
                               value_given="value" in args)
    db.session.commit()
    return answer
