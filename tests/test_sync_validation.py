"""Every validation rule of a pushed record, and the request-level errors of push."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from tests.helpers import json_error as _error
from tests.sync_support import bearer, household, load_communes, make_user, one, push, token

TOMORROW = (date.today() + timedelta(days=2)).isoformat()
LATER = (datetime.now(UTC) + timedelta(days=1)).isoformat()


@pytest.fixture
def auth(app: Flask, client, tmp_path: Path) -> str:
    load_communes(tmp_path)
    make_user("officer", "commune_officer", ["90001"])
    return token(client, "officer")


CASES = [
    ("unknown field", {"colour": "blue"}, "colour"),
    ("unknown nested field", {"location": {"lat": 21.05, "lon": 104.05, "accuracy_m": 5, "alt": 600}}, "location.alt"),
    ("missing head", {"household_head": None}, "household_head"),
    ("empty head", {"household_head": ""}, "household_head"),
    ("control character", {"household_head": "Lò\x01Văn"}, "household_head"),
    ("bad category", {"category": "rich"}, "category"),
    ("bad support type", {"support_type": "palace"}, "support_type"),
    ("bad status", {"status": "dreaming"}, "status"),
    ("members zero", {"members": 0}, "members"),
    ("members as text", {"members": "5"}, "members"),
    ("national id short", {"national_id": "01408500123"}, "national_id"),
    ("national id letters", {"national_id": "01408500123X"}, "national_id"),
    ("amount negative", {"funding": [{"source": "central_budget", "amount_vnd": -1}]}, "funding.0.amount_vnd"),
    ("amount float", {"funding": [{"source": "central_budget", "amount_vnd": 60000000.5}]}, "funding.0.amount_vnd"),
    ("amount string", {"funding": [{"source": "central_budget", "amount_vnd": "60000000"}]}, "funding.0.amount_vnd"),
    ("bad funding source", {"funding": [{"source": "lottery", "amount_vnd": 1}]}, "funding.0.source"),
    ("status date in future", {"status": "approved", "status_dates": {"approved": TOMORROW}},
     "status_dates.approved"),
    ("captured in future", {"captured_at": LATER}, "captured_at"),
    ("captured without offset", {"captured_at": "2025-04-02T16:40:00"}, "captured_at"),
    ("stages out of order", {"status_dates": {"approved": "2025-03-01", "started": "2025-02-10",
                                              "completed": "2025-04-02"}}, "status_dates"),
    ("current status date missing", {"status": "completed", "status_dates": {"approved": "2025-01-20"}},
     "status_dates"),
    ("date past current status", {"status": "approved", "status_dates": {"approved": "2025-01-20",
                                                                         "completed": "2025-04-02"}}, "status_dates"),
    ("latitude out of range", {"location": {"lat": 95.0, "lon": 104.05, "accuracy_m": 5}}, "location.lat"),
    ("latitude far out of range", {"location": {"lat": 200.0, "lon": 104.05, "accuracy_m": 5}}, "location.lat"),
    ("longitude out of range", {"location": {"lat": 21.0, "lon": 190.0, "accuracy_m": 5}}, "location.lon"),
    ("accuracy negative", {"location": {"lat": 21.05, "lon": 104.05, "accuracy_m": -1}}, "location.accuracy_m"),
    ("location missing", {"location": None}, "location"),
    ("photo hash not hex", {"photos": [{"sha256": "xyz", "stage": "before"}]}, "photos.0.sha256"),
    ("photo stage", {"photos": [{"sha256": "a" * 64, "stage": "someday"}]}, "photos.0.stage"),
    ("photo twice", {"photos": [{"sha256": "a" * 64, "stage": "before"}, {"sha256": "a" * 64, "stage": "after"}]},
     "photos"),
    ("id not a uuid", {"id": "household-1"}, "id"),
    ("base revision zero", {"base_revision": 0}, "base_revision"),
]


@pytest.mark.parametrize("label, changes, field", CASES, ids=[c[0] for c in CASES])
def test_invalid_record_is_rejected_naming_the_field(client, auth: str, label: str, changes: dict,
                                                     field: str) -> None:
    record = household(**changes)
    record = {k: v for k, v in record.items() if v is not None or k in ("base_revision", "national_id")}
    result = one(push(client, auth, [record]))
    assert result["result"] == "rejected", label
    assert field in result["errors"], result["errors"]
    assert result["revision"] is None


def test_latitude_past_90_is_accepted_only_as_a_swap(client, auth: str) -> None:
    # lat 104.05 / lon 21.05 swaps back into commune 90001.
    assert one(push(client, auth, [household(location={"lat": 104.05, "lon": 21.05, "accuracy_m": 5})]))[
        "result"] == "created"


def test_non_object_record_is_rejected_alone(client, auth: str) -> None:
    response = push(client, auth, [42, household()])
    answers = response.get_json()["results"]
    assert [a["result"] for a in answers] == ["rejected", "created"]
    assert answers[0]["id"] is None and answers[0]["errors"]


def _push_raw(client, auth: str, data, content_type: str = "application/json"):
    return client.post("/api/v1/sync/push", headers=bearer(auth), data=data, content_type=content_type)




def test_malformed_json_is_400(client, auth: str) -> None:
    _error(_push_raw(client, auth, '{"device_id": "phone-1", "households": [}'), 400, "bad_request")


def test_a_body_that_is_not_utf8_is_400(client, auth: str) -> None:
    body = '{"device_id": "phone-1", "batch_id": "b", "households": [], "x": "Lò"}'.encode("latin-1")
    _error(_push_raw(client, auth, body), 400, "bad_request")


def test_numbers_beyond_64_bits_and_nan_are_the_record_s_error_not_the_batch_s(client, auth: str) -> None:
    """The fast JSON reader refuses these; they still reach validation, record by record."""
    good, huge, nan = household(), household(), household()
    huge["funding"] = [{"source": "central_budget", "amount_vnd": 10**30}]
    nan["location"]["lat"] = "not-a-number"
    body = json.dumps({"device_id": "phone-1", "batch_id": str(uuid.uuid4()), "households": [good, huge, nan]})
    body = body.replace('"not-a-number"', "NaN")
    answer = _push_raw(client, auth, body)
    assert answer.status_code == 200, answer.json
    results = answer.json["results"]
    assert [r["result"] for r in results] == ["created", "rejected", "rejected"], results
    assert "funding.0.amount_vnd" in results[1]["errors"] and "location.lat" in results[2]["errors"]


def test_wrong_content_type_is_415(client, auth: str) -> None:
    body = json.dumps({"device_id": "phone-1", "batch_id": "b", "households": []})
    _error(_push_raw(client, auth, body, "text/plain"), 415, "unsupported_media_type")
    _error(_push_raw(client, auth, "device_id=phone-1", "application/x-www-form-urlencoded"), 415,
           "unsupported_media_type")


def test_envelope_is_validated(client, auth: str) -> None:
    error = _error(_push_raw(client, auth, json.dumps({"device_id": "phone-1", "households": {}})), 422,
                   "validation_error")
    assert {"batch_id", "households"} <= set(error["fields"])
    error = _error(_push_raw(client, auth, json.dumps(
        {"device_id": "phone-1", "batch_id": "b", "households": [], "oops": 1})), 422, "validation_error")
    assert "oops" in error["fields"]


def test_oversized_body_is_413(app: Flask, client, auth: str) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 2048
    records = [household() for _ in range(20)]
    _error(push(client, auth, records), 413, "payload_too_large")


def test_too_many_records_is_413(app: Flask, client, auth: str) -> None:
    app.config["PUSH_MAX_RECORDS"] = 3
    error = _error(push(client, auth, [household() for _ in range(4)]), 413, "too_many_records")
    assert "households" in error["fields"]
    assert push(client, auth, [household() for _ in range(3)]).status_code == 200


def test_empty_batch_is_fine(client, auth: str) -> None:
    response = push(client, auth, [], batch_id=str(uuid.uuid4()))
    assert response.status_code == 200 and response.get_json()["results"] == []
