"""The SVG base maps are drawn when a set is imported and stored, so a worker just started reads them."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, update

from tests.sync_support import load_communes
from tracker.boundaries.models import SvgBaseMap
from tracker.boundaries.service import get_set
from tracker.extensions import db
from tracker.web import maps


def test_an_import_stores_the_base_maps_and_a_fresh_worker_reads_them(app, tmp_path: Path) -> None:
    load_communes(tmp_path)
    boundary_set = get_set("test")
    stored = db.session.scalars(select(SvgBaseMap.level).where(SvgBaseMap.boundary_set_id == boundary_set.id))
    assert sorted(stored) == ["commune", "district"]
    maps._CACHE.clear()  # a worker just started
    read = maps.base_map(boundary_set)
    assert read == maps._draw(boundary_set, "commune")  # the stored drawing is the drawing, field for field
    assert len(read.shapes) == 2 and read.shapes[0].path.startswith("M")
    # What is served is what is stored: a stored body is read as it is, not drawn again.
    db.session.execute(update(SvgBaseMap).where(SvgBaseMap.level == "commune")
                       .values(body=func.replace(SvgBaseMap.body, read.shapes[0].name, "Stored")))
    db.session.commit()
    maps._CACHE.clear()
    assert maps.base_map(boundary_set).shapes[0].name == "Stored"


def test_a_set_without_stored_drawings_is_drawn_on_first_need(app, tmp_path: Path) -> None:
    load_communes(tmp_path)
    boundary_set = get_set("test")
    db.session.execute(SvgBaseMap.__table__.delete())
    db.session.commit()
    maps._CACHE.clear()
    assert len(maps.base_map(boundary_set).shapes) == 2
    maps.prepare_base_maps(boundary_set)  # what `flask boundaries outlines` does
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(SvgBaseMap)) == 2
