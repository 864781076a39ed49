"""GET /api/v1/sync/pull, POST /api/v1/sync/receipt, GET /api/v1/households/<id>, conflicts."""
from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from tests.sync_support import (
    COMMUNE_1,
    COMMUNE_2,
    INSIDE_2,
    bearer,
    household,
    load_communes,
    make_user,
    one,
    push,
    token,
)
from tracker.accounts.models import User
from tracker.audit.models import AuditEvent
from tracker.boundaries.models import BoundarySet
from tracker.extensions import db
from tracker.households.models import HouseholdRevision, Photo
from tracker.plans.models import Plan, PlanRevision, PlanTarget


@pytest.fixture
def world(app: Flask, client, tmp_path: Path) -> dict[str, str]:
    """Two communes, a plan, an officer for each commune and a manager."""
    load_communes(tmp_path)
    boundary_set = db.session.scalar(select(BoundarySet))
    plan = Plan(name="Kế hoạch thử", boundary_set_id=boundary_set.id)
    revision = PlanRevision(plan=plan, number=1, effective_date=date(2025, 1, 1), deadline=date(2025, 5, 19))
    revision.targets = [PlanTarget(commune_code=COMMUNE_1, new_build=10, repair=2, budget_vnd=660_000_000),
                        PlanTarget(commune_code=COMMUNE_2, new_build=5, repair=1, budget_vnd=330_000_000)]
    db.session.add(plan)
    db.session.commit()
    make_user("officer", "commune_officer", [COMMUNE_1])
    make_user("neighbour", "commune_officer", [COMMUNE_2])
    make_user("boss", "manager")
    make_user("watcher", "viewer", [COMMUNE_1])
    return {name: token(client, name, device=f"{name}-phone") for name in ("officer", "neighbour", "boss", "watcher")}


def _pull(client, auth: str, cursor: str | None = None, limit: int | None = None):
    query = {}
    if cursor is not None:
        query["cursor"] = cursor
    if limit is not None:
        query["limit"] = limit
    response = client.get("/api/v1/sync/pull", headers=bearer(auth), query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _push(client, world, who: str, records):
    return push(client, world[who], records, device=f"{who}-phone")


def _households(body) -> list[str]:
    return [c["id"] for c in body["changes"] if c["type"] == "household"]


def test_a_household_declared_in_one_commune_and_found_in_another_is_in_both_scopes(client, world) -> None:
    """The scope's two ways in: the commune declared (officer) and the commune its GPS point is in (neighbour)."""
    mismatch = household(location={**INSIDE_2})  # declared commune 1, GPS in commune 2
    own = household()
    _push(client, world, "officer", [mismatch, own])
    theirs = household(declared_commune=COMMUNE_2, location={**INSIDE_2})
    _push(client, world, "neighbour", [theirs])
    assert sorted(_households(_pull(client, world["officer"]))) == sorted([mismatch["id"], own["id"]])
    assert sorted(_households(_pull(client, world["neighbour"]))) == sorted([mismatch["id"], theirs["id"]])
    assert sorted(_households(_pull(client, world["watcher"]))) == sorted([mismatch["id"], own["id"]])
    later = _pull(client, world["neighbour"])["next_cursor"]
    moved = {**own, "base_revision": 1, "members": 7}
    _push(client, world, "officer", [moved])  # a change the neighbour's phone is not told of
    assert _households(_pull(client, world["neighbour"], cursor=later)) == []
    assert _households(_pull(client, world["officer"], cursor=later)) == [own["id"]]


def test_fresh_pull_gets_the_whole_commune_in_pages(client, world) -> None:
    mine = [household() for _ in range(5)]
    _push(client, world, "officer", mine)
    _push(client, world, "neighbour", [household(declared_commune=COMMUNE_2, location={**INSIDE_2})])
    first = _pull(client, world["officer"], limit=2)
    kinds = {c["type"] for c in first["changes"]}
    assert {"commune", "plan_target", "household"} <= kinds
    communes = [c["data"]["code"] for c in first["changes"] if c["type"] == "commune"]
    targets = [c["data"] for c in first["changes"] if c["type"] == "plan_target"]
    assert communes == [COMMUNE_1]  # only the caller's scope
    assert [(t["commune_code"], t["new_build"], t["repair"]) for t in targets] == [(COMMUNE_1, 10, 2)]
    assert first["has_more"] is True and first["reference_complete"] is True
    seen = _households(first)
    cursor = first["next_cursor"]
    while True:
        page = _pull(client, world["officer"], cursor, limit=2)
        assert not any(c["type"] == "commune" for c in page["changes"])  # reference data only once
        seen += _households(page)
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert sorted(seen) == sorted(r["id"] for r in mine)
    seqs = [c["seq"] for c in first["changes"] if c["type"] == "household"]
    assert seqs == sorted(seqs)
    # Nothing new: an empty page, same cursor.
    again = _pull(client, world["officer"], cursor)
    assert again["changes"] == [] and again["has_more"] is False and again["next_cursor"] == cursor


def test_pull_carries_record_revision_and_assignment(client, world) -> None:
    record = household()
    _push(client, world, "officer", [record])
    change = next(c for c in _pull(client, world["officer"])["changes"] if c["type"] == "household")
    assert change["data"]["revision"] == 1
    assert change["data"]["commune"] == COMMUNE_1
    assert change["data"]["assignment"]["boundary_set"] == "test"
    assert change["data"]["record"]["household_head"] == "Lò Văn Việt"
    assert change["data"]["record"]["national_id"] == "014085001234"


def test_viewer_sees_masked_national_id(client, world) -> None:
    _push(client, world, "officer", [household()])
    change = next(c for c in _pull(client, world["watcher"])["changes"] if c["type"] == "household")
    assert change["data"]["record"]["national_id"] == "********1234"


def _moved_away_after_a_pull(client, world) -> tuple[dict, dict, str]:
    """Two of the officer's households pulled; then a manager moves the first to the neighbouring commune.

    Returns both records and the cursor of that pull.
    """
    record, other = household(), household()
    _push(client, world, "officer", [record, other])
    cursor = _pull(client, world["officer"])["next_cursor"]
    moved = {**record, "base_revision": 1, "declared_commune": COMMUNE_2, "location": {**INSIDE_2}}
    assert one(_push(client, world, "boss", [moved]))["result"] == "updated"
    return record, other, cursor


def test_changes_after_cursor_and_removal_when_moved_out_of_scope(client, world) -> None:
    record, other, cursor = _moved_away_after_a_pull(client, world)
    edited = {**other, "base_revision": 1, "members": 7}
    assert one(_push(client, world, "officer", [edited]))["result"] == "updated"
    page = _pull(client, world["officer"], cursor)
    by_type = {(c["type"], c["id"]) for c in page["changes"]}
    assert by_type == {("household_removed", record["id"]), ("household", other["id"])}
    # The neighbour now sees the moved household.
    assert record["id"] in _households(_pull(client, world["neighbour"]))


def test_manager_pulls_everything(client, world) -> None:
    _push(client, world, "officer", [household()])
    _push(client, world, "neighbour", [household(declared_commune=COMMUNE_2, location={**INSIDE_2})])
    body = _pull(client, world["boss"])
    assert len(_households(body)) == 2
    assert sorted(c["data"]["code"] for c in body["changes"] if c["type"] == "commune") == [COMMUNE_1, COMMUNE_2]


def test_cursor_from_the_future_starts_over(client, world) -> None:
    record = household()
    _push(client, world, "officer", [record])
    body = _pull(client, world["officer"], "999999-00000000")
    assert body["reference_complete"] is True
    assert _households(body) == [record["id"]]


def test_bad_cursor_is_422(client, world) -> None:
    response = client.get("/api/v1/sync/pull?cursor=abc", headers=bearer(world["officer"]))
    assert response.status_code == 422 and "cursor" in response.get_json()["error"]["fields"]
    assert client.get("/api/v1/sync/pull?limit=0", headers=bearer(world["officer"])).status_code == 422


def test_receipt_tells_what_the_server_holds(client, world) -> None:
    record = household()
    _push(client, world, "officer", [record])
    sha_held, sha_missing, sha_theirs = "ab" * 32, "cd" * 32, "ef" * 32
    officer = db.session.scalar(select(User.id).where(User.username == "officer"))
    db.session.add(Photo(sha256=sha_held, size_bytes=10, content_type="image/jpeg", width=1, height=1,
                         uploaded_by=officer))
    # Stored, but neither the officer's upload nor named by a household of their communes.
    db.session.add(Photo(sha256=sha_theirs, size_bytes=10, content_type="image/jpeg", width=1, height=1))
    db.session.commit()
    unknown = str(uuid.uuid4())
    response = client.post("/api/v1/sync/receipt", headers=bearer(world["officer"]), json={
        "households": [record["id"], unknown], "photos": [sha_held, sha_missing, sha_theirs]})
    assert response.status_code == 200
    body = response.get_json()
    assert body["households"][0]["held"] is True and body["households"][0]["revision"] == 1
    assert body["households"][0]["content_hash"]
    assert body["households"][1] == {"id": unknown, "held": False, "revision": None, "content_hash": None}
    assert body["photos"] == [{"sha256": sha_held, "held": True}, {"sha256": sha_missing, "held": False},
                              {"sha256": sha_theirs, "held": False}]
    boss = client.post("/api/v1/sync/receipt", headers=bearer(world["boss"]), json={"photos": [sha_theirs]})
    assert boss.get_json()["photos"] == [{"sha256": sha_theirs, "held": True}]
    bad = client.post("/api/v1/sync/receipt", headers=bearer(world["officer"]), json={"photos": ["nope"]})
    assert bad.status_code == 422 and "photos.0" in bad.get_json()["error"]["fields"]


def test_household_detail_has_revision_commune_assignment_history(client, world) -> None:
    record = household()
    _push(client, world, "officer", [record])
    one(_push(client, world, "officer", [{**record, "base_revision": 1, "members": 8}]))
    response = client.get(f"/api/v1/households/{record['id']}", headers=bearer(world["officer"]))
    assert response.status_code == 200
    body = response.get_json()
    assert body["revision"] == 2
    assert body["commune"] == COMMUNE_1
    assert body["assignment"]["commune"] == COMMUNE_1
    assert body["record"]["members"] == 8
    assert [(h["revision"], h["result"], h["user"]) for h in body["history"]] == [
        (1, "created", "officer"), (2, "updated", "officer")]
    assert body["history"][1]["changed_fields"] == ["members"]
    assert body["history"][0]["superseded_at"] is not None


def test_household_detail_404_and_403(client, world) -> None:
    missing = client.get(f"/api/v1/households/{uuid.uuid4()}", headers=bearer(world["officer"]))
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    record = household(declared_commune=COMMUNE_2, location={**INSIDE_2})
    _push(client, world, "neighbour", [record])
    assert client.get(f"/api/v1/households/{record['id']}", headers=bearer(world["officer"])).status_code == 403
    assert client.get(f"/api/v1/households/{record['id']}", headers=bearer(world["boss"])).status_code == 200
    assert client.get("/api/v1/households/not-a-uuid", headers=bearer(world["boss"])).status_code == 404


def _conflict(client, world) -> tuple[dict, dict]:
    record = household()
    _push(client, world, "officer", [record])
    one(_push(client, world, "officer", [{**record, "base_revision": 1, "members": 6,
                                          "captured_at": "2025-04-05T08:00:00+07:00"}]))
    result = one(_push(client, world, "boss", [{**record, "base_revision": 1, "members": 9,
                                                "captured_at": "2025-04-04T08:00:00+07:00"}]))
    assert result["result"] == "conflict"
    return record, result


def test_conflicts_are_listed_in_scope_and_resolved_by_a_manager(client, world) -> None:
    record, _ = _conflict(client, world)
    listed = client.get("/api/v1/conflicts", headers=bearer(world["officer"])).get_json()
    assert listed["total"] == 1
    conflict = listed["conflicts"][0]
    assert (conflict["field"], conflict["server_value"], conflict["client_value"], conflict["kept"]) == (
        "members", 6, 9, "server")
    assert client.get("/api/v1/conflicts", headers=bearer(world["neighbour"])).get_json()["total"] == 0
    url = f"/api/v1/conflicts/{conflict['id']}/resolve"
    assert client.post(url, headers=bearer(world["officer"]), json={"keep": "client"}).status_code == 403
    response = client.post(url, headers=bearer(world["boss"]), json={"keep": "client", "note": "đã kiểm tra"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["changed"] is True and body["revision"] == 4
    assert body["conflict"]["resolution"]["keep"] == "client"
    current = db.session.scalar(select(HouseholdRevision).where(
        HouseholdRevision.household_id == record["id"], HouseholdRevision.superseded_at.is_(None)))
    assert current.data["members"] == 9 and current.result == "resolved" and current.revision == 4
    assert client.get("/api/v1/conflicts", headers=bearer(world["boss"])).get_json()["total"] == 0
    resolved = client.get("/api/v1/conflicts?status=resolved", headers=bearer(world["boss"])).get_json()
    assert resolved["total"] == 1
    again = client.post(url, headers=bearer(world["boss"]), json={"keep": "server"})
    assert again.status_code == 409
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "conflict.resolve")) is not None


def test_resolving_with_a_value_is_validated(client, world) -> None:
    _conflict(client, world)
    conflict = client.get("/api/v1/conflicts", headers=bearer(world["boss"])).get_json()["conflicts"][0]
    url = f"/api/v1/conflicts/{conflict['id']}/resolve"
    bad = client.post(url, headers=bearer(world["boss"]), json={"keep": "value", "value": 0})
    assert bad.status_code == 422 and "members" in bad.get_json()["error"]["fields"]
    missing = client.post(url, headers=bearer(world["boss"]), json={"keep": "value"})
    assert missing.status_code == 422
    ok = client.post(url, headers=bearer(world["boss"]), json={"keep": "value", "value": 7})
    assert ok.status_code == 200 and ok.get_json()["changed"] is True
    keep_server = client.get("/api/v1/conflicts?status=all", headers=bearer(world["boss"])).get_json()
    assert keep_server["conflicts"][0]["resolution"]["value"] == 7
    assert client.post("/api/v1/conflicts/999999/resolve", headers=bearer(world["boss"]),
                       json={"keep": "server"}).status_code == 404


def test_keeping_the_server_value_adds_no_revision(client, world) -> None:
    record, _ = _conflict(client, world)
    conflict = client.get("/api/v1/conflicts", headers=bearer(world["boss"])).get_json()["conflicts"][0]
    body = client.post(f"/api/v1/conflicts/{conflict['id']}/resolve", headers=bearer(world["boss"]),
                       json={"keep": "server"}).get_json()
    assert body["changed"] is False and body["revision"] == 3


def test_each_change_carries_exactly_the_documented_fields_of_its_type(client, world) -> None:
    """A client written from the OpenAPI document reads every change: each type's data has its own schema."""
    record, _, cursor = _moved_away_after_a_pull(client, world)
    changes = _pull(client, world["officer"])["changes"] + _pull(client, world["officer"], cursor)["changes"]
    assert {c["type"] for c in changes} == {"household", "household_removed", "commune", "plan_target"}
    spec = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    data = spec["Change"]["properties"]["data"]
    named = {"household": "HouseholdChange", "commune": "CommuneRef", "plan_target": "PlanTargetRef"}
    assert data["nullable"] is True
    assert data["oneOf"] == [{"$ref": f"#/components/schemas/{name}"} for name in named.values()]
    for change in changes:
        if change["type"] == "household_removed":
            assert change["data"] is None and change["id"] == record["id"]
            continue
        documented = spec[named[change["type"]]]
        assert set(change["data"]) == set(documented["properties"]) == set(documented["required"]), change
    commune = next(c["data"] for c in changes if c["type"] == "commune")
    assert (commune["code"], commune["boundary_set"], commune["in_force"]) == (COMMUNE_1, "test", True)
    target = next(c["data"] for c in changes if c["type"] == "plan_target")
    assert (target["effective_date"], target["deadline"], target["budget_vnd"]) == ("2025-01-01", "2025-05-19",
                                                                                    660_000_000)
