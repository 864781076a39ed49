"""Twenty phones push overlapping edits of the same households at the same instant,
through a real gunicorn server on PostgreSQL. Every edit must be applied,
merged or recorded as a conflict: compared with an independent model of the
outcome (per field: an edit nobody else touched is applied; of several edits
of one field one is kept and every other is in a conflict row), whatever
order the server saw them in.

(``tests/test_sync_live.py`` covers races on one record and one field; this
covers many fields, many records and many phones at once.)
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.sync_support import LiveServer, household, serving
from tests.sync_support import together as _together
from tracker.extensions import db
from tracker.households.models import Conflict, Household, HouseholdRevision

CLIENTS = 20
HOUSEHOLDS = 4
FIELDS = ("members", "note", "village")
ROUNDS = 2


@pytest.fixture
def live(app: Flask, tmp_path: Path) -> Iterator[LiveServer]:
    with serving(app, tmp_path, 4, "the concurrency test runs against PostgreSQL, the production database") as server:
        yield server


def _value(field: str, client: int, round_: int) -> Any:
    return {"members": 2 + client + CLIENTS * round_, "note": f"ghi chú {round_}-{client}",
            "village": f"Bản {round_}-{client}"}[field]


def _edits(base: list[dict[str, Any]], round_: int) -> list[tuple[int, dict[str, Any], str, Any, str]]:
    """(client, record, field, value, captured_at): each client edits one field of one household."""
    out = []
    for client in range(CLIENTS):
        target = base[client % HOUSEHOLDS]
        field = FIELDS[(client // HOUSEHOLDS + round_) % len(FIELDS)]
        value = _value(field, client, round_)
        # Capture times interleave with the client numbers, so arrival order says nothing.
        minute = (client * 7) % CLIENTS
        captured = f"2025-04-{10 + round_:02d}T08:{minute:02d}:00+07:00"
        out.append((client, {**target, field: value, "captured_at": captured}, field, value, captured))
    return out


def _fetch(server: LiveServer, token: str, household_id: str) -> tuple[dict[str, Any], int]:
    status, _, body = server.request("GET", f"/api/v1/households/{household_id}",
                                     headers={"Authorization": f"Bearer {token}"})
    assert status == 200, body
    answer = json.loads(body)
    return {**answer["record"], "id": household_id}, answer["revision"]




def test_twenty_phones_editing_the_same_households_lose_no_edit(live: LiveServer) -> None:
    tokens = [live.token("officer", f"phone-{i}") for i in range(CLIENTS)]
    base = [household(members=1, note="", village="Bản Gốc") for _ in range(HOUSEHOLDS)]
    status, body = live.json("POST", "/api/v1/sync/push", {"device_id": "phone-0", "batch_id": str(uuid.uuid4()),
                                                            "households": base}, tokens[0])
    assert status == 200 and {r["result"] for r in body["results"]} == {"created"}
    ids = [r["id"] for r in base]
    revisions_expected = {i: 1 for i in ids}
    seen = [_fetch(live, tokens[0], i) for i in ids]
    results: dict[str, int] = {}
    for round_ in range(ROUNDS):
        # Every client starts from the record as the server holds it (as after a pull).
        bases = {record["id"]: revision for record, revision in seen}
        assert bases == revisions_expected
        before = {record["id"]: record for record, _ in seen}
        edits = _edits([record for record, _ in seen], round_)
        answers = _together(CLIENTS, lambda i: live.json("POST", "/api/v1/sync/push", {
            "device_id": f"phone-{i}", "batch_id": str(uuid.uuid4()),
            "households": [{**edits[i][1], "base_revision": bases[edits[i][1]["id"]]}]}, tokens[i]))
        for (_client, record, _field, _value, _captured), (status, answer) in zip(edits, answers):
            assert status == 200, answer
            [result] = answer["results"]
            assert result["result"] in ("updated", "merged", "conflict"), result
            results[result["result"]] = results.get(result["result"], 0) + 1
            revisions_expected[record["id"]] += 1
        seen = [_fetch(live, tokens[0], i) for i in ids]
        _check_round(before, edits, {record["id"]: record for record, _ in seen})
        assert {record["id"]: revision for record, revision in seen} == revisions_expected

    db.session.remove()
    for household_id in ids:
        assert db.session.get(Household, household_id).revision == revisions_expected[household_id]
        numbers = list(db.session.scalars(select(HouseholdRevision.revision).where(
            HouseholdRevision.household_id == household_id).order_by(HouseholdRevision.revision)))
        assert numbers == list(range(1, revisions_expected[household_id] + 1))
        current = db.session.scalars(select(HouseholdRevision).where(
            HouseholdRevision.household_id == household_id, HouseholdRevision.superseded_at.is_(None))).all()
        assert len(current) == 1
    assert results.get("conflict") and results.get("merged") and sum(results.values()) == CLIENTS * ROUNDS


def _check_round(before: dict[str, dict[str, Any]], edits: list[tuple[int, dict[str, Any], str, Any, str]],
                 after: dict[str, dict[str, Any]]) -> None:
    """The independent model of one round of simultaneous edits.

    Per household and field: untouched fields keep their value; a field one
    phone edited takes that value (merged, whatever the order); a field several
    phones edited takes one of their values, and every other value is in a
    conflict row (server or client side) for review. Nothing else changes.
    """
    candidates: dict[tuple[str, str], list[Any]] = {}
    for _client, record, field, value, _captured in edits:
        candidates.setdefault((record["id"], field), []).append(value)
    conflicts = db.session.execute(select(Conflict.household_id, Conflict.field, Conflict.server_value,
                                          Conflict.client_value)).all()
    db.session.remove()
    recorded = {(c.household_id, c.field, json.dumps(v)) for c in conflicts for v in (c.server_value, c.client_value)}
    for household_id, record in before.items():
        for field in FIELDS:
            values = candidates.get((household_id, field))
            final = after[household_id][field]
            if values is None:
                assert final == record[field], (household_id, field)
                continue
            assert final in values, (household_id, field, final, values)
            lost = [v for v in values if v != final and (household_id, field, json.dumps(v)) not in recorded]
            assert not lost, f"edits of {field} neither applied nor recorded as a conflict: {lost}"
        for field in ("household_head", "national_id", "status", "funding", "location"):
            assert after[household_id][field] == record[field], (household_id, field)
