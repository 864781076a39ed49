"""A bulk import racing a phone's push of the same household ids.

The import and the push both go through the household ledger, which holds
(locks) the households before reading them: whichever comes second sees the
first's household. One household per id, no 500, no import error.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from schemas.household import HouseholdSchema, canonical
from sync.decide import stored_form
from tests.sync_support import LiveServer, household, serving
from tests.sync_support import together as _together
from tracker.extensions import db
from tracker.households.models import Household, HouseholdRevision
from tracker.households.service import create_households

ROUNDS = 8
PER_ROUND = 5


@pytest.fixture
def live(app: Flask, tmp_path: Path) -> Iterator[LiveServer]:
    with serving(app, tmp_path, 2, "two writers at the same instant: PostgreSQL (SQLite takes one writer at a time)") as server:
        yield server


def _import(app: Flask, records: list[dict[str, Any]]) -> list[str]:
    with app.app_context():
        results = create_households([stored_form(canonical(HouseholdSchema().load(r))) for r in records],
                                   device_id="import")
        db.session.commit()
        return [r.result for r in results]


def test_an_import_racing_a_push_of_the_same_ids_gives_one_household(app: Flask, live: LiveServer) -> None:
    auth = live.token("officer", "phone-1")
    for _ in range(ROUNDS):
        records = [household() for _ in range(PER_ROUND)]

        def work(i: int) -> Any:
            if i == 0:
                return _import(app, records)
            return live.json("POST", "/api/v1/sync/push",
                             {"device_id": "phone-1", "batch_id": str(uuid.uuid4()), "households": records}, auth)

        imported, (status, pushed) = _together(2, work)
        assert status == 200, pushed
        for import_result, push_result in zip(imported, pushed["results"]):
            assert sorted([import_result, push_result["result"]]) == ["created", "unchanged"], push_result
        ids = [r["id"] for r in records]
        assert db.session.scalar(select(func.count()).select_from(Household).where(Household.id.in_(ids))) == PER_ROUND
        assert db.session.scalar(select(func.count()).select_from(HouseholdRevision)
                                 .where(HouseholdRevision.household_id.in_(ids))) == PER_ROUND
        db.session.remove()
