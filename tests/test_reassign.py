"""Loading or changing a boundary set re-assigns every household under it, through the ledger."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from tests.helpers import feature, square, write_collection
from tests.progress_builders import COMMUNES, at, load_province, record, store
from tracker.audit.models import AuditEvent
from tracker.boundaries.service import get_set
from tracker.extensions import db
from tracker.households.models import RevisionAssignment


def _assigned(set_name: str) -> list[str | None]:
    boundary_set = get_set(set_name)
    return list(db.session.scalars(select(RevisionAssignment.commune_code)
                                   .where(RevisionAssignment.boundary_set_id == boundary_set.id)
                                   .order_by(RevisionAssignment.revision_id)))


def _swapped(path: Path) -> Path:
    """The same province with 90001 and 90002 trading places."""
    places = {"90001": (104.1, 21.0), "90002": (104.0, 21.0)}
    return write_collection(path, [
        feature(code, title, square(*places.get(code, corner), 0.1), district=district, province="Tỉnh Thử")
        for code, (title, district, corner) in COMMUNES.items()
    ])


def test_a_changed_set_re_assigns_every_household(runner, tmp_path: Path) -> None:
    load_province(tmp_path)
    store([record("90001"), record("90001"), record("90003")], at("2025-02-01 09:00"))
    assert _assigned("t") == ["90001", "90001", "90003"]
    result = runner.invoke(args=["boundaries", "import", str(_swapped(tmp_path / "v2.geojson")), "--set", "t"])
    assert result.exit_code == 0, result.output
    assert "replaced" in result.output and "3 household revisions re-assigned under t" in result.output
    assert _assigned("t") == ["90002", "90002", "90003"]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "households.reassign")).all()
    assert [e.object_id for e in events] == ["t"]


def test_a_new_set_assigns_every_household_and_an_unchanged_one_does_nothing(runner, tmp_path: Path) -> None:
    load_province(tmp_path)
    store([record("90001"), record("90004")], at("2025-02-01 09:00"))
    path = _swapped(tmp_path / "u.geojson")
    result = runner.invoke(args=["boundaries", "import", str(path), "--set", "u", "--in-force-from", "2025-07-01"])
    assert result.exit_code == 0, result.output
    assert "2 household revisions re-assigned under u" in result.output
    assert _assigned("u") == ["90002", "90004"] and get_set("u").in_force_from.isoformat() == "2025-07-01"
    again = runner.invoke(args=["boundaries", "import", str(path), "--set", "u"])
    assert "unchanged" in again.output and "re-assigned" not in again.output


def _details(set_name: str) -> list[tuple[str | None, str | None, bool, dict]]:
    boundary_set = get_set(set_name)
    db.session.expire_all()
    return [(a.commune_code, a.flag, a.needs_review, a.details) for a in db.session.scalars(
        select(RevisionAssignment).where(RevisionAssignment.boundary_set_id == boundary_set.id)
        .order_by(RevisionAssignment.revision_id))]


def test_bulk_rows_are_the_rows_a_push_stores(app, tmp_path: Path) -> None:
    """Inside, on a border, coarse, outside, swapped, declared elsewhere: the same row either way."""
    from tracker.households.ledger import reassign_set

    load_province(tmp_path)
    lat, lon = 21.05, 104.05
    store([record("90001"), record("90001", lat=lat, lon=104.1001, accuracy=30.0),
           record("90001", accuracy=250.0), record("90001", lat=0.0, lon=0.0),
           record("90001", lat=lon, lon=lat), record("90001", declared="90004"),
           record("90001", declared="99999"), record("90001", lat=float(lat), lon=104.0999, accuracy=400.0)],
          at("2025-02-01 09:00"))
    pushed = _details("t")
    assert {flag for _, flag, _, _ in pushed} >= {None, "ambiguous", "outside", "swapped_coordinates", "mismatch"}
    calls: list[tuple[int, int]] = []
    assert reassign_set(get_set("t"), chunk=3, progress=lambda done, total: calls.append((done, total))) == 8
    assert calls == [(3, 8), (6, 8), (8, 8)]  # progress after every batch
    assert _details("t") == pushed
