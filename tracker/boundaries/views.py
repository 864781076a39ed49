"""Boundary sets and their units over HTTP."""
from __future__ import annotations

from typing import Any

from schemas.boundaries import AdminUnitSchema, BoundarySetSchema, UnitQueryArgs
from tracker.api import Blueprint
from tracker.boundaries import service
from tracker.errors import ApiError

blp = Blueprint("boundaries", __name__, url_prefix="/api/v1/boundary-sets", description="Boundary sets")


@blp.route("")
@blp.response(200, BoundarySetSchema(many=True))
def list_sets() -> list[dict[str, Any]]:
    return [
        {
            "name": s.name,
            "description": s.description,
            "synthetic": s.synthetic,
            "version": s.version,
            "in_force_from": s.in_force_from,
            "counts": service.unit_counts(s.id),
            "updated_at": s.updated_at,
        }
        for s in service.boundary_sets()
    ]


@blp.route("/<string:name>/units")
@blp.arguments(UnitQueryArgs, location="query")
@blp.response(200, AdminUnitSchema(many=True))
def list_units(args: dict[str, Any], name: str) -> list[Any]:
    boundary_set = service.get_set(name)
    if boundary_set is None:
        raise ApiError(404, f"No boundary set named {name!r}")
    return service.units(boundary_set.id, args["level"])
