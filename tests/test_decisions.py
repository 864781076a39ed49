"""A manager's decision on a household's commune lasts over the officer's later pushes.

Confirm and move are API operations (and review-queue forms, see test_web);
the decision is shown on GET /api/v1/households/<id> and in pull, an
officer's push never overrides it, and a new GPS point in another commune
sends the household back to review with both facts shown.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import json_error
from tests.sync_support import (
    COMMUNE_1,
    COMMUNE_2,
    INSIDE_1,
    INSIDE_2,
    bearer,
    household,
    load_communes,
    make_user,
    one,
    push,
    token,
)

# 0.0001° (about 10 m) west of the boundary between the two test communes, with
# 50 m of accuracy: ambiguous, assigned to the declared commune, flagged for review.
EDGE = {"lat": 21.05, "lon": 104.0999, "accuracy_m": 50.0, "captured_at": "2025-02-10T09:12:00+07:00"}


@pytest.fixture
def people(app: Flask, client: FlaskClient, tmp_path: Path) -> dict[str, str]:
    load_communes(tmp_path)
    make_user("officer", "commune_officer", [COMMUNE_1, COMMUNE_2])
    make_user("boss", "manager")
    return {"officer": token(client, "officer"), "boss": token(client, "boss", "desk-1")}


def _decide(client: FlaskClient, auth: str, household_id: str, action: str, **body: Any) -> Any:
    return client.post(f"/api/v1/households/{household_id}/assignments/test/{action}", headers=bearer(auth),
                       json=body)


def _get(client: FlaskClient, auth: str, household_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/households/{household_id}", headers=bearer(auth))
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def _pulled(client: FlaskClient, auth: str, household_id: str) -> dict[str, Any]:
    changes = client.get("/api/v1/sync/pull?cursor=0", headers=bearer(auth)).get_json()["changes"]
    [change] = [c for c in changes if c["type"] == "household" and c["id"] == household_id]
    return change["data"]


def _flagged_record(client: FlaskClient, officer: str) -> dict[str, Any]:
    record = household(location=EDGE)
    created = one(push(client, officer, [record]))
    assert created["commune"] == COMMUNE_1 and created["assignment"]["needs_review"] is True
    return record


def test_a_moved_assignment_survives_two_later_pushes(client: FlaskClient, people: dict[str, str]) -> None:
    record = _flagged_record(client, people["officer"])
    moved = _decide(client, people["boss"], record["id"], "move", revision=1, commune=COMMUNE_2,
                    note="Nhà ở bên kia suối")
    assert moved.status_code == 200, moved.get_json()
    answer = moved.get_json()
    assert (answer["revision"], answer["commune"], answer["assignment"]["needs_review"]) == (2, COMMUNE_2, False)
    [decision] = answer["decisions"]
    assert (decision["boundary_set"], decision["action"], decision["commune"], decision["previous_commune"],
            decision["by"], decision["note"], decision["revision"]) == (
        "test", "move", COMMUNE_2, COMMUNE_1, "boss", "Nhà ở bên kia suối", 1)
    assert answer["history"][-1]["result"] == "reviewed" and answer["history"][-1]["changed_fields"] == []

    revision = 2
    edits = ({"status": "handed_over", "status_dates": {**record["status_dates"], "handed_over": "2025-04-20"}},
             {"note": "Đã bàn giao nhà"})
    for edit in edits:
        record = {**record, **edit}
        result = one(push(client, people["officer"], [{**record, "base_revision": revision}]))
        assert result["result"] == "updated" and result["revision"] == revision + 1
        assert result["commune"] == COMMUNE_2 and result["assignment"]["needs_review"] is False
        assert result["assignment"]["decision"]["by"] == "boss"
        revision = result["revision"]

    held = _get(client, people["officer"], record["id"])
    assert (held["revision"], held["commune"], held["record"]["note"]) == (4, COMMUNE_2, "Đã bàn giao nhà")
    assert held["assignment"]["gps_commune"] == COMMUNE_1 and held["assignment"]["method"] == "manual"
    assert held["assignment"]["needs_review"] is False and held["decisions"][0]["commune"] == COMMUNE_2
    pulled = _pulled(client, people["officer"], record["id"])
    assert pulled["commune"] == COMMUNE_2 and pulled["assignment"]["decision"]["action"] == "move"


def test_a_confirmed_household_stays_out_of_the_queue(client: FlaskClient, people: dict[str, str]) -> None:
    record = _flagged_record(client, people["officer"])
    confirmed = _decide(client, people["boss"], record["id"], "confirm", revision=1)
    assert confirmed.status_code == 200
    assert confirmed.get_json()["assignment"]["needs_review"] is False
    result = one(push(client, people["officer"], [{**record, "members": 6, "base_revision": 2}]))
    assert (result["result"], result["commune"]) == ("updated", COMMUNE_1)
    assert result["assignment"]["needs_review"] is False and result["assignment"]["flags"] == ["ambiguous"]


def test_a_new_point_against_a_move_goes_back_to_review_with_both_facts(
    client: FlaskClient, people: dict[str, str]
) -> None:
    record = _flagged_record(client, people["officer"])
    assert _decide(client, people["boss"], record["id"], "move", revision=1, commune=COMMUNE_2).status_code == 200
    # The point moves, but stays in the commune decided: nothing to review.
    record = {**record, "location": {**EDGE, **INSIDE_2}}
    result = one(push(client, people["officer"], [{**record, "base_revision": 2}]))
    assert (result["commune"], result["assignment"]["needs_review"]) == (COMMUNE_2, False)
    # A point well inside the other commune contradicts the decision.
    record = {**record, "location": {**EDGE, **INSIDE_1}}
    result = one(push(client, people["officer"], [{**record, "base_revision": 3}]))
    assert result["commune"] == COMMUNE_2, "an officer's push never overrides the decision"
    assignment = result["assignment"]
    assert assignment["needs_review"] is True and assignment["contradicts_decision"] is True
    assert assignment["gps_commune"] == COMMUNE_1 and assignment["decision"]["commune"] == COMMUNE_2
    # A manager decides again, on what the point says now.
    again = _decide(client, people["boss"], record["id"], "move", revision=4, commune=COMMUNE_1)
    assert again.status_code == 200
    assert (again.get_json()["commune"], again.get_json()["assignment"]["needs_review"]) == (COMMUNE_1, False)


def test_a_decision_on_a_changed_household_is_refused_with_409(client: FlaskClient, people: dict[str, str]) -> None:
    record = _flagged_record(client, people["officer"])
    assert one(push(client, people["officer"], [{**record, "members": 7, "base_revision": 1}]))["revision"] == 2
    stale = _decide(client, people["boss"], record["id"], "move", revision=1, commune=COMMUNE_2)
    error = json_error(stale, 409, "household_changed")
    assert "revision 2" in error["message"]
    held = _get(client, people["boss"], record["id"])
    assert (held["revision"], held["commune"], held["decisions"]) == (2, COMMUNE_1, [])
    assert held["assignment"]["needs_review"] is True


def test_decisions_are_checked(client: FlaskClient, people: dict[str, str]) -> None:
    record = _flagged_record(client, people["officer"])
    forbidden = _decide(client, people["officer"], record["id"], "confirm", revision=1)
    json_error(forbidden, 403)
    json_error(_decide(client, people["boss"], record["id"], "move", revision=1, commune="99999"), 422)
    json_error(_decide(client, people["boss"], record["id"], "move", revision=1), 422)
    json_error(_decide(client, people["boss"], record["id"], "confirm", revision=1, extra=1), 422)
    missing = client.post(f"/api/v1/households/{record['id']}/assignments/nope/confirm",
                          headers=bearer(people["boss"]), json={"revision": 1})
    json_error(missing, 404)
    assert _get(client, people["boss"], record["id"])["revision"] == 1
