"""The same edits give the same record, whichever phone syncs first (over HTTP).

Four phones edit one household from the same revision, overlapping on some
fields and apart on others, each with its own ``captured_at``; the edits are
pushed in every one of the 24 orders, each order on a household of its own.
Every order must end in one identical record, and the conflicts stored for
each order name the same fields.
"""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.sync_support import COMMUNE_1, bearer, household, load_communes, make_user, one, push, token
from tracker.extensions import db
from tracker.households.models import Conflict

PHOTO_1, PHOTO_2, PHOTO_3 = "1a" * 32, "2b" * 32, "3c" * 32
BASE = {
    "status": "started", "status_dates": {"approved": "2025-01-20", "started": "2025-02-10"},
    "photos": [{"sha256": PHOTO_1, "stage": "before"}], "captured_at": "2025-03-01T08:00:00+07:00",
    "note": "",
}
# phone → its edit of the base (the fields it changed) and when it captured it.
EDITS: dict[str, dict[str, Any]] = {
    # Changes the note early; the later notes must win over it in every order.
    "phone-a": {"note": "A: mái tôn", "members": 6, "captured_at": "2025-04-03T08:00:00+07:00"},
    # The latest record of all, but it never touches the note: it must not carry the early note forward.
    "phone-b": {"village": "Bản Bê", "photos": [
                    {"sha256": PHOTO_1, "stage": "before"},
                    {"sha256": PHOTO_2, "stage": "during", "taken_at": "2025-04-08T10:00:00+07:00"}],
                "captured_at": "2025-04-09T08:00:00+07:00"},
    # The latest note, and a head of household nobody else touches.
    "phone-c": {"note": "C: tường xong", "household_head": "Lò Văn Việc",
                "captured_at": "2025-04-05T08:00:00+07:00"},
    # Members again (earlier than A: A's value stays), the village again (earlier than B), the work finished.
    "phone-d": {"members": 7, "village": "Bản Đê", "status": "completed",
                "status_dates": {"approved": "2025-01-20", "started": "2025-02-10", "completed": "2025-04-01"},
                "photos": [{"sha256": PHOTO_1, "stage": "after"},
                           {"sha256": PHOTO_3, "stage": "after", "taken_at": "2025-04-01T10:00:00+07:00"}],
                "captured_at": "2025-04-02T08:00:00+07:00"},
}
EXPECTED = {
    "note": "C: tường xong", "members": 6, "village": "Bản Bê", "household_head": "Lò Văn Việc",
    "status": "completed", "captured_at": "2025-04-09T08:00:00+07:00",
}


@pytest.fixture
def phones(app: Flask, client, tmp_path: Path) -> dict[str, str]:
    load_communes(tmp_path)
    make_user("officer", "commune_officer", [COMMUNE_1])
    make_user("colleague", "commune_officer", [COMMUNE_1])
    return {phone: token(client, "officer" if phone in ("phone-a", "phone-c") else "colleague", device=phone)
            for phone in EDITS}


def _play(client, phones: dict[str, str], order: tuple[str, ...]) -> tuple[dict[str, Any], list[str]]:
    """Create the base, push the edits in ``order``; the final record (without id) and conflict fields."""
    base = household(**BASE)
    assert one(push(client, phones["phone-a"], [base], device="phone-a"))["result"] == "created"
    for phone in order:
        edit = {**base, **EDITS[phone], "base_revision": 1}
        answer = one(push(client, phones[phone], [edit], device=phone))
        assert answer["result"] in ("updated", "merged", "conflict"), answer
    response = client.get(f"/api/v1/households/{base['id']}", headers=bearer(phones["phone-a"]))
    assert response.status_code == 200
    record = {k: v for k, v in response.get_json()["record"].items() if k != "id"}
    fields = sorted(db.session.scalars(select(Conflict.field).where(Conflict.household_id == base["id"])))
    return record, fields


def test_every_order_of_the_same_edits_ends_in_one_record(client, phones: dict[str, str]) -> None:
    finals: dict[tuple[str, ...], dict[str, Any]] = {}
    for order in itertools.permutations(EDITS):
        record, fields = _play(client, phones, order)
        finals[order] = record
        # Each overlap meets once in every order (A and C on the note, A and D on members, B and D on the village).
        assert fields == ["members", "note", "village"], order
    first = next(iter(finals.values()))
    different = {" → ".join(order): sorted(k for k in record if record[k] != first.get(k))
                 for order, record in finals.items() if record != first}
    assert not different, f"{len(different)} of 24 orders end differently from the first: {different}"
    assert {k: first[k] for k in EXPECTED} == EXPECTED
    assert first["status_dates"]["completed"] == "2025-04-01"
    # Photos of the base keep their place; those added follow, by the time they were taken.
    assert [(p["sha256"], p["stage"]) for p in first["photos"]] == [
        (PHOTO_1, "after"), (PHOTO_3, "after"), (PHOTO_2, "during")]


def test_a_later_unrelated_edit_does_not_decide_a_note(client, phones: dict[str, str]) -> None:
    """The issue's case: two notes from one base, and a later edit of another field between them."""
    for order in (("phone-a", "phone-b", "phone-c"), ("phone-c", "phone-b", "phone-a"),
                  ("phone-b", "phone-a", "phone-c"), ("phone-b", "phone-c", "phone-a")):
        record, _ = _play(client, phones, order)
        assert record["note"] == "C: tường xong", order


def test_the_losing_note_is_stored_as_a_conflict(client, phones: dict[str, str]) -> None:
    base = household(**BASE)
    one(push(client, phones["phone-a"], [base], device="phone-a"))
    one(push(client, phones["phone-c"], [{**base, **EDITS["phone-c"], "base_revision": 1}], device="phone-c"))
    one(push(client, phones["phone-b"], [{**base, **EDITS["phone-b"], "base_revision": 1}], device="phone-b"))
    answer = one(push(client, phones["phone-a"], [{**base, **EDITS["phone-a"], "base_revision": 1}],
                      device="phone-a"))
    assert answer["result"] == "conflict"
    assert answer["conflicts"] == [{"field": "note", "kept": "server", "server_value": "C: tường xong",
                                    "client_value": "A: mái tôn"}]
    stored = db.session.scalar(select(Conflict).where(Conflict.household_id == base["id"]))
    assert (stored.field, stored.kept, stored.server_value, stored.client_value) == (
        "note", "server", "C: tường xong", "A: mái tôn")
