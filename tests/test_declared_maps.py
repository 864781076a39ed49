"""A declared code is read in its own map: the one the client names, or the map in force on the capture day.

On the real Sơn La sets (``BOUNDARIES_DIR``), through HTTP push: 74 of the
75 new communes kept the code of an old one, and most of these grew; an old
code declared before the merger means the old commune, so a point in the
part of it that went to a neighbour is no mismatch on either map. The same
code declared after the merger means the new commune, and there it is one.
"""
from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from tests.maps_builders import TwoMaps, load_two_maps
from tests.openrosa.support import NS, enrolled
from tests.progress_builders import record
from tests.sync_support import make_user, push, results, token
from tracker.boundaries.service import unit_shapes
from tracker.crosswalks.service import current_crosswalk
from tracker.extensions import db
from tracker.households.models import HouseholdRevision, RevisionAssignment
from tracker.plans.service import add_revision


@pytest.fixture
def maps(app: Any, tmp_path: Path) -> TwoMaps:
    found = load_two_maps(tmp_path)
    if not found.real:
        pytest.skip("the real Sơn La boundary sets are not in BOUNDARIES_DIR")
    found.new.in_force_from = date(2025, 7, 1)
    current_crosswalk(found.old, found.new)
    db.session.commit()
    return found


def _grown(maps: TwoMaps) -> tuple[str, float, float]:
    """A code on both maps, and a point of the old commune that lies in another new commune."""
    old = {code: geom for code, _, geom in unit_shapes(maps.old)}
    new = {code: geom for code, _, geom in unit_shapes(maps.new)}
    code = max(set(old) & set(new), key=lambda c: old[c].difference(new[c]).area / old[c].area)
    point = old[code].difference(new[code]).buffer(-0.005).representative_point()
    assert not new[code].contains(point) and old[code].contains(point)
    return code, point.y, point.x


def _flags(household_id: str) -> dict[str, tuple[str | None, list[str]]]:
    db.session.expire_all()
    rows = db.session.execute(
        select(RevisionAssignment.boundary_set_id, RevisionAssignment.commune_code, RevisionAssignment.details)
        .join(HouseholdRevision, HouseholdRevision.id == RevisionAssignment.revision_id)
        .where(HouseholdRevision.household_id == household_id, HouseholdRevision.superseded_at.is_(None)))
    names = {"2024": None, "2025": None}
    from tracker.boundaries.service import get_set
    ids = {get_set(n).id: n for n in names}
    return {ids[set_id]: (code, details["flags"]) for set_id, code, details in rows}


def test_an_old_code_declared_before_the_merger_is_no_mismatch_on_either_map(client, maps: TwoMaps) -> None:
    code, lat, lon = _grown(maps)
    make_user("boss", "manager")
    before = record(lat=lat, lon=lon, declared=code, captured_at="2025-03-01T10:00:00+07:00")
    [answer] = results(push(client, token(client, "boss"), [before]))
    assert answer["result"] == "created", answer
    flags = _flags(before["id"])
    assert flags["2024"] == (code, [])
    assert flags["2025"][0] != code and "mismatch" not in flags["2025"][1]
    assert "mismatch" not in answer["assignment"]["flags"]


def test_the_same_code_after_the_merger_means_the_new_commune_unless_the_client_names_the_old_map(
        client, maps: TwoMaps) -> None:
    code, lat, lon = _grown(maps)
    make_user("boss", "manager")
    boss = token(client, "boss")
    after = record(lat=lat, lon=lon, declared=code, captured_at="2025-08-01T10:00:00+07:00")
    named = record(lat=lat, lon=lon, declared=code, captured_at="2025-08-01T10:00:00+07:00", declared_set="2024")
    assert [r["result"] for r in results(push(client, boss, [after, named]))] == ["created", "created"]
    assert "mismatch" in _flags(after["id"])["2025"][1]  # a real mismatch: the new commune is elsewhere
    assert "mismatch" not in _flags(named["id"])["2025"][1]
    assert _flags(named["id"])["2024"] == (code, [])
    pulled = client.get("/api/v1/sync/pull?limit=500", headers={"Authorization": f"Bearer {boss}"}).get_json()
    stored = {c["id"]: c["data"]["record"] for c in pulled["changes"] if c.get("type") == "household"}
    assert stored[named["id"]]["declared_set"] == "2024" and "declared_set" not in stored[after["id"]]


def test_an_unknown_map_is_refused_by_name(client, maps: TwoMaps) -> None:
    code, lat, lon = _grown(maps)
    make_user("boss", "manager")
    bad = record(lat=lat, lon=lon, declared=code, declared_set="1999")
    [answer] = results(push(client, token(client, "boss"), [bad]))
    assert answer["result"] == "rejected" and "declared_set" in answer["errors"], answer


def test_the_field_forms_offer_the_communes_of_the_map_in_force(client, maps: TwoMaps) -> None:
    old = {code: name for code, name, _ in unit_shapes(maps.old)}
    new = {code: name for code, name, _ in unit_shapes(maps.new)}
    code = next(c for c in sorted(set(old) & set(new)) if old[c] != new[c])
    # A plan on the old map makes it the default set of reports; the forms still offer the map in force.
    add_revision("Kế hoạch 2025", maps.old, [{"commune_code": code, "new_build": 3, "repair": 1, "budget_vnd": 1}],
                 deadline=date(2025, 12, 31), effective=date(2025, 1, 1), source_name="test")
    db.session.commit()
    make_user("canbo", "commune_officer", [code])
    base = enrolled("canbo")
    manifest = ElementTree.fromstring(client.get(f"{base}/forms/household/manifest").data)
    urls = {item.findtext("m:filename", namespaces=NS): item.findtext("m:downloadUrl", namespaces=NS)
            for item in manifest.findall("m:mediaFile", NS)}
    body = client.get(urls["communes.csv"].removeprefix("http://localhost")).data
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert rows == [{"name": code, "label": new[code]}]  # today is after 1 July 2025: the new commune's name
