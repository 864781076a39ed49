"""POST /api/v1/sync/push over HTTP: results, idempotency, merge, conflicts, scope."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

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
    results,
    token,
)
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.households.models import Conflict, Household, HouseholdRevision


@pytest.fixture
def officer(app: Flask, client, tmp_path: Path) -> str:
    load_communes(tmp_path)
    make_user("officer", "commune_officer", [COMMUNE_1])
    return token(client, "officer")


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_push_creates_and_answers_commune_and_assignment(client, officer: str) -> None:
    record = household()
    result = one(push(client, officer, [record]))
    assert result["id"] == record["id"]
    assert result["result"] == "created"
    assert result["revision"] == 1
    assert result["commune"] == COMMUNE_1
    assert result["assignment"]["commune"] == COMMUNE_1
    assert result["assignment"]["flag"] is None
    assert result["assignments"]["test"]["commune"] == COMMUNE_1
    assert result["errors"] == {}
    assert result["missing_photos"] == []
    stored = db.session.scalar(select(HouseholdRevision).where(HouseholdRevision.household_id == record["id"]))
    assert stored.household_head == "Lò Văn Việt"  # Vietnamese kept exactly
    assert stored.data["household_head"] == "Lò Văn Việt"
    assert stored.fund_central_budget == 60_000_000 and stored.fund_social_fund == 10_000_000


def test_one_bad_record_does_not_sink_the_batch(client, officer: str) -> None:
    good, bad = household(), household(members=0, national_id="12345")
    answer = results(push(client, officer, [good, bad]))
    assert [r["result"] for r in answer] == ["created", "rejected"]
    assert set(answer[1]["errors"]) == {"members", "national_id"}
    assert answer[1]["id"] == bad["id"]
    assert _count(Household) == 1


def test_replayed_batch_gets_same_answer_and_changes_nothing(client, officer: str) -> None:
    records = [household(), household(members=0)]
    batch = str(uuid.uuid4())
    first = push(client, officer, records, batch_id=batch).get_json()
    counts = (_count(Household), _count(HouseholdRevision), _count(AuditEvent))
    for _ in range(3):
        again = push(client, officer, records, batch_id=batch)
        assert again.get_json() == first
    assert (_count(Household), _count(HouseholdRevision), _count(AuditEvent)) == counts


def test_batch_id_reused_for_other_content_is_409(client, officer: str) -> None:
    batch = str(uuid.uuid4())
    push(client, officer, [household()], batch_id=batch)
    response = push(client, officer, [household()], batch_id=batch)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "batch_id_reused"


def test_resending_a_record_in_a_new_batch_is_unchanged(client, officer: str) -> None:
    record = household()
    push(client, officer, [record])
    again = one(push(client, officer, [record]))
    assert again["result"] == "unchanged"
    assert again["revision"] == 1
    assert again["commune"] == COMMUNE_1
    assert _count(HouseholdRevision) == 1


def test_edit_on_current_revision_updates_and_keeps_history(client, officer: str) -> None:
    record = household(status="started", status_dates={"approved": "2025-01-20", "started": "2025-02-10"})
    push(client, officer, [record])
    edit = {**record, "base_revision": 1, "status": "completed",
            "status_dates": {"approved": "2025-01-20", "started": "2025-02-10", "completed": "2025-04-02"}}
    result = one(push(client, officer, [edit]))
    assert (result["result"], result["revision"]) == ("updated", 2)
    revisions = db.session.scalars(select(HouseholdRevision).where(
        HouseholdRevision.household_id == record["id"]).order_by(HouseholdRevision.revision)).all()
    assert [r.status for r in revisions] == ["started", "completed"]
    assert revisions[0].superseded_at is not None and revisions[1].superseded_at is None


def test_stale_edit_from_second_device_merges_different_fields(client, officer: str) -> None:
    record = household()
    push(client, officer, [record])
    second = token(client, "officer", device="phone-2")
    one(push(client, officer, [{**record, "base_revision": 1, "members": 6}]))
    stale = {**record, "base_revision": 1, "village": "Bản Mới", "captured_at": "2025-04-03T08:00:00+07:00"}
    result = one(push(client, second, [stale], device="phone-2"))
    assert (result["result"], result["revision"]) == ("merged", 3)
    current = db.session.scalar(select(HouseholdRevision).where(
        HouseholdRevision.household_id == record["id"], HouseholdRevision.superseded_at.is_(None)))
    assert current.data["members"] == 6 and current.data["village"] == "Bản Mới"
    assert current.result == "merged" and current.device_id == "phone-2"
    # The same stale push again: recognised, nothing changes.
    assert one(push(client, second, [stale], device="phone-2"))["result"] == "unchanged"
    assert _count(HouseholdRevision) == 3


def test_same_field_changed_both_ways_is_a_listed_conflict(client, officer: str) -> None:
    record = household()
    push(client, officer, [record])
    one(push(client, officer, [{**record, "base_revision": 1, "household_head": "Lò Văn Viết",
                                "captured_at": "2025-04-03T08:00:00+07:00"}]))
    second = token(client, "officer", device="phone-2")
    stale = {**record, "base_revision": 1, "household_head": "Lò Văn Việc",
             "captured_at": "2025-04-02T18:00:00+07:00"}
    result = one(push(client, second, [stale], device="phone-2"))
    assert result["result"] == "conflict"
    assert result["revision"] == 3
    [conflict] = result["conflicts"]
    assert conflict == {"field": "household_head", "kept": "server", "server_value": "Lò Văn Viết",
                        "client_value": "Lò Văn Việc"}
    stored = db.session.scalar(select(Conflict))
    assert (stored.field, stored.kept, stored.client_value) == ("household_head", "server", "Lò Văn Việc")
    listed = client.get("/api/v1/conflicts", headers=bearer(officer)).get_json()
    assert listed["total"] == 1 and listed["conflicts"][0]["household_id"] == record["id"]


def test_status_never_moves_back_for_an_officer(client, officer: str, app: Flask) -> None:
    record = household()
    push(client, officer, [record])
    back = {**record, "base_revision": 1, "status": "started",
            "status_dates": {"approved": "2025-01-20", "started": "2025-02-10"}}
    result = one(push(client, officer, [back]))
    assert result["result"] == "rejected"
    assert "status" in result["errors"]
    make_user("boss", "manager")
    manager = token(client, "boss", device="desk")
    assert one(push(client, manager, [back], device="desk"))["result"] == "updated"


def test_stale_status_push_cannot_undo_progress(client, officer: str) -> None:
    record = household(status="started", status_dates={"approved": "2025-01-20", "started": "2025-02-10"})
    push(client, officer, [record])
    done = {**record, "base_revision": 1, "status": "completed",
            "status_dates": {**record["status_dates"], "completed": "2025-04-02"}}
    one(push(client, officer, [done]))
    # Another phone, still on revision 1, only fixes the village.
    stale = {**record, "base_revision": 1, "village": "Bản Mới"}
    result = one(push(client, officer, [stale]))
    assert result["result"] == "merged"
    current = db.session.scalar(select(HouseholdRevision).where(
        HouseholdRevision.household_id == record["id"], HouseholdRevision.superseded_at.is_(None)))
    assert current.status == "completed" and current.data["village"] == "Bản Mới"


def test_base_revision_from_the_future_or_unknown_is_rejected(client, officer: str) -> None:
    record = household()
    assert "base_revision" in one(push(client, officer, [{**record, "base_revision": 3}]))["errors"]
    push(client, officer, [record])
    result = one(push(client, officer, [{**record, "base_revision": 5, "members": 2}]))
    assert result["result"] == "rejected" and "base_revision" in result["errors"]


def test_officer_cannot_write_outside_their_communes(client, officer: str) -> None:
    elsewhere = household(declared_commune=COMMUNE_2, location={**INSIDE_2})
    result = one(push(client, officer, [elsewhere]))
    assert result["result"] == "rejected"
    assert "declared_commune" in result["errors"]
    assert _count(Household) == 0


def test_officer_may_push_a_point_outside_when_declared_commune_is_theirs(client, officer: str) -> None:
    record = household(location={**INSIDE_2})  # GPS in commune 2, declared commune 1
    result = one(push(client, officer, [record]))
    assert result["result"] == "created"
    assert result["commune"] == COMMUNE_2  # the GPS point decides...
    assert result["assignment"]["flag"] == "mismatch"  # ...and the disagreement is flagged


def test_officer_cannot_touch_a_household_of_another_commune(client, officer: str) -> None:
    make_user("neighbour", "commune_officer", [COMMUNE_2])
    other = token(client, "neighbour", device="n-phone")
    record = household(declared_commune=COMMUNE_2, location={**INSIDE_2})
    assert one(push(client, other, [record], device="n-phone"))["result"] == "created"
    grab = {**record, "base_revision": 1, "declared_commune": COMMUNE_1}
    result = one(push(client, officer, [grab]))
    assert result["result"] == "rejected" and "id" in result["errors"]
    response = client.get(f"/api/v1/households/{record['id']}", headers=bearer(officer))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_viewer_may_not_push(client, app: Flask, tmp_path: Path) -> None:
    load_communes(tmp_path)
    make_user("watcher", "viewer", [COMMUNE_1])
    response = push(client, token(client, "watcher"), [household()])
    assert response.status_code == 403


def test_device_id_must_match_the_token(client, officer: str) -> None:
    response = push(client, officer, [household()], device="someone-else")
    assert response.status_code == 403


def test_missing_photos_are_listed(client, officer: str) -> None:
    sha = "ab" * 32
    result = one(push(client, officer, [household(photos=[{"sha256": sha, "stage": "before"}])]))
    assert result["missing_photos"] == [sha]


def test_duplicate_id_in_one_batch_is_rejected_once(client, officer: str) -> None:
    record = household()
    answer = results(push(client, officer, [record, {**record, "members": 3}]))
    assert [r["result"] for r in answer] == ["created", "rejected"]
    assert "id" in answer[1]["errors"]


def test_outside_point_is_flagged_and_kept(client, app: Flask, tmp_path: Path) -> None:
    load_communes(tmp_path)
    make_user("boss", "manager")
    manager = token(client, "boss")
    result = one(push(client, manager, [household(location={"lat": 0.0, "lon": 0.0, "accuracy_m": 5.0})]))
    assert result["result"] == "created"
    assert result["assignment"]["flag"] == "outside"
    assert result["assignment"]["needs_review"] is True
    assert db.session.scalar(select(func.count()).select_from(Household)) == 1  # kept, never dropped


def test_swapped_coordinates_are_recognised(client, officer: str) -> None:
    result = one(push(client, officer, [household(location={"lat": 104.05, "lon": 21.05, "accuracy_m": 5.0})]))
    assert result["result"] == "created"
    assert result["assignment"]["flag"] == "swapped_coordinates"
    assert result["commune"] == COMMUNE_1


def test_every_write_is_audited(client, officer: str) -> None:
    record = household()
    push(client, officer, [record])
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert "household.created" in actions and "sync.push" in actions and "token.issue" in actions
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "household.created"))
    assert (event.actor_name, event.device_id, event.object_id) == ("officer", "phone-1", record["id"])
    assert event.at is not None


def test_a_batch_id_belongs_to_its_user_and_device(client, officer: str) -> None:
    """Two accounts on one shared phone id may use the same batch id; each resend gets its own answer."""
    make_user("officer-b", "commune_officer", [COMMUNE_1])
    other = token(client, "officer-b", "phone-1")  # the same device id as ``officer``
    batch = str(uuid.uuid4())
    mine, theirs = household(), household(household_head="Cầm Thị Hoa")
    first = push(client, officer, [mine], batch_id=batch)
    second = push(client, other, [theirs], batch_id=batch)
    assert one(first)["result"] == "created" and one(second)["result"] == "created", second.get_json()
    assert one(push(client, officer, [mine], batch_id=batch)) == one(first)
    assert one(push(client, other, [theirs], batch_id=batch)) == one(second)
    # The same account on another phone id is another sender too; the first sender still may not reuse it.
    third = token(client, "officer-b", "phone-2")
    assert one(push(client, third, [household()], batch_id=batch, device="phone-2"))["result"] == "created"
    assert push(client, officer, [household()], batch_id=batch).status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Household)) == 3
