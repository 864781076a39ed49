"""Through a real gunicorn server with several worker processes, on loopback.

Concurrent pushes of the same new record must give exactly one record; an
upload cut off on the wire is resumed from what the server kept.
"""
from __future__ import annotations

import hashlib
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.sync_support import LiveServer, bearer, household, image_bytes, serving
from tests.sync_support import together as _together
from tracker.extensions import db
from tracker.households.models import Household, HouseholdRevision, Photo

WORKERS = 4


@pytest.fixture
def live(app: Flask, tmp_path: Path) -> Iterator[LiveServer]:
    with serving(app, tmp_path, WORKERS) as server:
        yield server




def _push(server: LiveServer, auth: str, device: str, records: list[dict]) -> tuple[int, Any]:
    return server.json("POST", "/api/v1/sync/push",
                       {"device_id": device, "batch_id": str(uuid.uuid4()), "households": records}, auth)


def test_concurrent_pushes_of_the_same_new_id_make_one_record(live: LiveServer) -> None:
    phones = 6
    tokens = [live.token("officer", f"phone-{i}") for i in range(phones)]
    records = [household() for _ in range(8)]
    for record in records:  # several rounds, each a fresh race
        answers = _together(phones, lambda i: _push(live, tokens[i], f"phone-{i}", [record]))
        assert all(status == 200 for status, _ in answers), (answers, live.output())
        outcomes = sorted(body["results"][0]["result"] for _, body in answers)
        assert outcomes == ["created"] + ["unchanged"] * (phones - 1), outcomes
        assert {body["results"][0]["revision"] for _, body in answers} == {1}
    db.session.remove()
    ids = [r["id"] for r in records]
    assert db.session.scalar(select(func.count()).select_from(Household).where(Household.id.in_(ids))) == len(ids)
    assert db.session.scalar(select(func.count()).select_from(HouseholdRevision)) == len(ids)


def test_concurrent_batches_overlapping_in_any_order_do_not_deadlock(live: LiveServer) -> None:
    phones = 4
    tokens = [live.token("officer", f"phone-{i}") for i in range(phones)]
    shared = [household() for _ in range(20)]
    answers = _together(phones, lambda i: _push(live, tokens[i], f"phone-{i}",
                                                shared[::-1] if i % 2 else shared))
    assert all(status == 200 for status, _ in answers), (answers, live.output())
    created = [r["id"] for _, body in answers for r in body["results"] if r["result"] == "created"]
    assert sorted(created) == sorted(r["id"] for r in shared)  # each created exactly once


def test_concurrent_edits_of_one_record_keep_every_revision(live: LiveServer) -> None:
    phones = 4
    tokens = [live.token("officer", f"phone-{i}") for i in range(phones)]
    record = household()
    status, body = _push(live, tokens[0], "phone-0", [record])
    assert status == 200 and body["results"][0]["result"] == "created"
    edits = [{**record, "base_revision": 1, "members": 6 + i, "note": f"sửa {i}",
              "captured_at": f"2025-04-0{3 + i}T08:00:00+07:00"} for i in range(phones)]
    answers = _together(phones, lambda i: _push(live, tokens[i], f"phone-{i}", [edits[i]]))
    results = [body["results"][0] for _, body in answers]
    assert sorted(r["revision"] for r in results) == [2, 3, 4, 5]
    assert sorted(r["result"] for r in results) == ["conflict"] * 3 + ["updated"]
    db.session.remove()
    revisions = db.session.scalars(select(HouseholdRevision.revision).where(
        HouseholdRevision.household_id == record["id"]).order_by(HouseholdRevision.revision)).all()
    assert revisions == [1, 2, 3, 4, 5]
    current = db.session.scalar(select(HouseholdRevision).where(
        HouseholdRevision.household_id == record["id"], HouseholdRevision.superseded_at.is_(None)))
    assert current.data["members"] == 6 + phones - 1  # the latest capture wins, whatever the arrival order


def test_replayed_batch_sent_twice_at_once_gets_one_answer(live: LiveServer) -> None:
    auth = live.token("officer", "phone-0")
    payload = {"device_id": "phone-0", "batch_id": str(uuid.uuid4()), "households": [household(), household()]}
    answers = _together(3, lambda i: live.json("POST", "/api/v1/sync/push", payload, auth))
    assert all(status == 200 for status, _ in answers)
    assert answers[0][1] == answers[1][1] == answers[2][1]
    assert [r["result"] for r in answers[0][1]["results"]] == ["created", "created"]


def _cut_off_put(server: LiveServer, auth: str, name: str, data: bytes, send: int) -> None:
    """Send the headers and the first ``send`` bytes of a PUT, then drop the connection."""
    head = (f"PUT /api/v1/photos/{name} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
            f"Authorization: Bearer {auth}\r\nContent-Length: {len(data)}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(head + data[:send])
        time.sleep(0.3)
        sock.shutdown(socket.SHUT_RDWR)


def test_photo_cut_off_half_way_is_resumed(live: LiveServer) -> None:
    auth = live.token("officer", "phone-0")
    data = image_bytes(size=(900, 700))
    name, half = hashlib.sha256(data).hexdigest(), len(data) // 2
    _cut_off_put(live, auth, name, data, half)
    deadline, held = time.monotonic() + 20, None
    while time.monotonic() < deadline:  # the worker notices the cut and saves what arrived
        status, headers, _ = live.request("HEAD", f"/api/v1/photos/{name}", headers=bearer(auth))
        if status == 200 and headers.get("upload-length") == str(len(data)):
            held = int(headers["upload-offset"])
            break
        time.sleep(0.2)
    assert held is not None and 0 < held <= half, live.output()
    status, headers, body = live.request("PATCH", f"/api/v1/photos/{name}", data[held:], {
        **bearer(auth), "Tus-Resumable": "1.0.0", "Upload-Offset": str(held),
        "Content-Type": "application/offset+octet-stream"})
    assert status == 204, body
    assert headers["upload-offset"] == str(len(data)) and headers["tus-resumable"] == "1.0.0"
    status, _, fetched = live.request("GET", f"/api/v1/photos/{name}", headers=bearer(auth))
    assert status == 200 and fetched == data
    db.session.remove()
    assert db.session.get(Photo, name).size_bytes == len(data)


def test_the_households_export_streams_whole_through_a_real_server(live: LiveServer) -> None:
    """The rows are read while the answer streams, after the request's session is gone."""
    auth = live.token("officer", "phone-1")
    records = [household() for _ in range(3)]
    assert _push(live, auth, "phone-1", records)[0] == 200
    status, headers, body = live.request("GET", "/api/v1/export/households.csv?lang=en", headers=bearer(auth))
    text = body.decode("utf-8-sig")
    assert status == 200 and "INCOMPLETE" not in text, (text[-300:], live.output()[-1500:])
    assert all(record["id"] in text for record in records)
