"""Streams that cannot pass for complete.

Every parameter of an export is checked before the first byte; a failure
once the file has started leaves a line saying so and breaks the transfer;
text cells that a spreadsheet would run (``=``, ``+``, ``-``, ``@``, a tab, a
carriage return at the start) are neutralised.
"""
from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.helpers import json_error
from tests.sync_support import bearer, household

EXPORTS = ("/api/v1/export/households.csv", "/api/v1/export/households.xlsx", "/api/v1/export/progress.csv",
           "/api/v1/export/progress.xlsx")
BAD = ["commune=%00", "as_of=0001-01-01", "as_of=2025-02-30", "known_at=yesterday", "set=no-such-set",
       "plan=no-such-plan", "lang=fr", "level=village", "status=dreaming", "support_type=palace", "colour=blue",
       "as_of=%00", "lang=%00"]
HOSTILE = ["\t=cmd|' /C calc'!A0", "\r=1+1", "=HYPERLINK(\"http://x\")", "+84 912", "-1", "@SUM(A1)", "\t\tx", "\rx"]


def test_every_bad_parameter_is_answered_before_the_first_byte(client: FlaskClient, world: dict[str, Any]) -> None:
    auth = world["tokens"]["manager"]
    checked = 0
    for url in EXPORTS:
        for query in BAD:
            answer = client.get(f"{url}?{query}", headers=bearer(auth))
            if answer.status_code == 200:  # a filter this export does not take is refused as unknown
                pytest.fail(f"{url}?{query} started a file")
            json_error(answer, answer.status_code)
            assert answer.status_code in (400, 404, 422), (url, query, answer.status_code)
            assert "Content-Disposition" not in answer.headers
            checked += 1
    assert checked == len(EXPORTS) * len(BAD)


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_cells_a_spreadsheet_would_run_are_neutralised(client: FlaskClient, world: dict[str, Any]) -> None:
    auth = world["tokens"]["manager"]
    records = [household(declared_commune="90001", household_head=f"Hộ {i}", village=text, note=text)
               for i, text in enumerate(HOSTILE)]
    answer = client.post("/api/v1/sync/push", headers=bearer(auth), json={
        "device_id": "manager-phone", "batch_id": str(uuid.uuid4()), "households": records})
    assert [r["result"] for r in answer.get_json()["results"]] == ["created"] * len(HOSTILE), answer.get_json()
    rows = _rows(client.get("/api/v1/export/households.csv?lang=en", headers=bearer(auth)).data)
    villages = {row[4] for row in rows if len(row) > 5 and row[5].startswith("Hộ ")}
    assert villages == {"'" + text for text in HOSTILE}, villages
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or cell.lstrip("-").isdigit(), (row, cell)
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(client.get("/api/v1/export/households.xlsx?lang=en", headers=bearer(auth)).data))
    values = [cell for row in book.active.iter_rows() for cell in row]
    texts = {c.value.replace("\r", "\n") for c in values if c.data_type == "s"}
    assert texts >= {h.replace("\r", "\n") for h in HOSTILE}  # kept as text (XML reads a CR as a line feed)
    assert not [c for c in values if c.data_type == "f"]


def _failing_after(rows: Iterator[Any], count: int) -> Iterator[Any]:
    for index, row in enumerate(rows):
        if index == count:
            raise RuntimeError("the database went away")
        yield row


def test_a_failure_mid_stream_breaks_the_download_visibly(client: FlaskClient, world: dict[str, Any],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.exports import households as views

    auth = world["tokens"]["manager"]
    real = views.household_rows
    monkeypatch.setattr(views, "household_rows", lambda *a, **k: _failing_after(real(*a, **k), 1))
    answer = client.get("/api/v1/export/households.csv?lang=en", headers=bearer(auth), buffered=False)
    assert answer.status_code == 200  # the header block had gone out
    received = []
    with pytest.raises(RuntimeError):
        for chunk in answer.response:
            received.append(chunk)
    body = b"".join(received).decode("utf-8-sig")
    assert body.rstrip().endswith("INCOMPLETE FILE: the export failed here") and world["a"]["id"] in body
    # A failure before the first row is a plain error, with no file started.
    monkeypatch.setattr(views, "household_rows", lambda *a, **k: _failing_after(real(*a, **k), 0))
    answer = client.get("/api/v1/export/households.csv?lang=en", headers=bearer(auth))
    json_error(answer, 500)
    assert "Content-Disposition" not in answer.headers
