"""Commune outlines per web-map zoom, prepared once per set and stored.

Simplifying the 11,163 national outlines takes about a second per zoom;
done on a request, every worker paid it again after each restart. The
outlines for the zooms a web map uses (``PREPARED_ZOOMS``) are therefore
simplified when a set is imported, in the import's transaction, and stored
in ``unit_outlines``; a map answer reads the stored text (kept per process
afterwards). A zoom outside that range is simplified on first need and kept
per process only. ``flask boundaries outlines`` prepares them again, e.g.
for sets imported before this table existed.
"""
from __future__ import annotations

from collections import OrderedDict
from threading import Lock

from sqlalchemy import delete, insert, select

from tracker.boundaries.models import BoundarySet, UnitOutline
from tracker.boundaries.service import geometry_key, unit_shapes
from tracker.extensions import db
from tracker.geo.outlines import outline_texts

PREPARED_ZOOMS = tuple(range(4, 13))
CACHE_SIZE = 12
_CACHE: OrderedDict[tuple[object, ...], dict[str, str]] = OrderedDict()
_LOCK = Lock()


def prepare_outlines(boundary_set: BoundarySet, zooms: tuple[int, ...] = PREPARED_ZOOMS) -> int:
    """Simplify and store the set's commune outlines for ``zooms``; the caller commits. Returns rows stored."""
    shapes = unit_shapes(boundary_set)
    db.session.execute(delete(UnitOutline).where(UnitOutline.boundary_set_id == boundary_set.id,
                                                 UnitOutline.zoom.in_(zooms)))
    stored = 0
    for zoom in zooms:
        texts = outline_texts([g for _, _, g in shapes], zoom)
        rows = [{"boundary_set_id": boundary_set.id, "zoom": zoom, "code": code, "geometry": text}
                for (code, _, _), text in zip(shapes, texts)]
        if rows:
            db.session.execute(insert(UnitOutline), rows)
        stored += len(rows)
    return stored


def outlines(boundary_set: BoundarySet, zoom: int) -> dict[str, str]:
    """``{commune code: GeoJSON geometry text}`` for ``zoom``, by code."""
    key = (*geometry_key(boundary_set), zoom)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    table = UnitOutline.__table__
    found = dict(db.session.connection().execute(  # Core rows: no ORM row per outline
        select(table.c.code, table.c.geometry)
        .where(table.c.boundary_set_id == boundary_set.id, table.c.zoom == zoom)
        .order_by(table.c.code)
    ).all())
    if not found:
        shapes = unit_shapes(boundary_set)
        found = dict(zip([code for code, _, _ in shapes], outline_texts([g for _, _, g in shapes], zoom)))
    with _LOCK:
        _CACHE[key] = found
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return found
