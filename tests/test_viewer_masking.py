"""Nothing a caller may not see: a viewer finds no full national ID anywhere.

A household in the viewer's area gets a conflict over its national ID (two
phones changed it differently from the same base), so the planted full IDs
sit in the record, its history and the conflict's server and client values.
The viewer then reads every API endpoint (with their query variants), every
page and every export; none may hold a full ID, and the masked form is shown.
"""
from __future__ import annotations

import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.sync_support import bearer
from tests.test_security import NATIONAL_ID_A, _body_text, _every_get, _values, _web_sign_in

FIRST, SECOND = "038090123456", "038090654321"  # two phones' corrections of household A's ID


def _plant_conflict(client: FlaskClient, world: dict[str, Any]) -> None:
    auth = world["tokens"]["officer1"]
    for national_id, when in ((FIRST, "2025-04-03T08:00:00+07:00"), (SECOND, "2025-04-04T08:00:00+07:00")):
        edit = {**world["a"], "base_revision": 1, "national_id": national_id, "captured_at": when}
        answer = client.post("/api/v1/sync/push", headers=bearer(auth), json={
            "device_id": "officer1-phone", "batch_id": str(uuid.uuid4()), "households": [edit]})
        assert answer.status_code == 200, answer.get_json()
    conflicts = client.get(f"/api/v1/conflicts?household_id={world['a']['id']}&status=all",
                           headers=bearer(world["tokens"]["manager"])).get_json()["conflicts"]
    planted = [c for c in conflicts if c["field"] == "national_id"]
    assert planted and {planted[0]["server_value"], planted[0]["client_value"]} <= {FIRST, SECOND, NATIONAL_ID_A}


def test_a_viewer_finds_no_full_national_id_in_any_answer_page_or_file(app: Flask, client: FlaskClient,
                                                                       world: dict[str, Any]) -> None:
    _plant_conflict(client, world)
    secrets = (NATIONAL_ID_A, FIRST, SECOND)
    auth = world["tokens"]["viewer1"]
    seen = 0
    urls = []
    for url, answer in _every_get(app, client, auth, _values(world, "a", "photo_a")):
        body = _body_text(answer)
        for secret in secrets:
            assert secret not in body, (url, secret)
        seen += any(s[-4:] in body for s in secrets)
        urls.append(url)
    extra = [f"/api/v1/conflicts?household_id={world['a']['id']}&status=all", "/api/v1/conflicts?status=open",
             "/api/v1/export/households.csv?lang=en", "/api/v1/export/households.xlsx?lang=en",
             "/api/v1/sync/pull?limit=2000&cursor=0"]
    for url in extra:
        answer = client.get(url, headers=bearer(auth))
        assert answer.status_code == 200, url
        body = _body_text(answer)
        assert not [s for s in secrets if s in body], url
    conflicts = client.get(extra[0], headers=bearer(auth)).get_json()["conflicts"]
    masked = [c for c in conflicts if c["field"] == "national_id"]
    assert masked and all(str(c["client_value"]).startswith("****") for c in masked), masked
    assert seen >= 3 and len(urls) >= 12
    _web_sign_in(client, "viewer1")
    pages = [f"/households/{world['a']['id']}", "/communes/90001", "/search?q=Viet", "/", "/map",
             "/export/progress.csv", "/export/progress.xlsx", "/communes/90001?flagged=1"]
    for url in pages:
        answer = client.get(url)
        assert answer.status_code == 200, url
        body = _body_text(answer)
        assert not [s for s in secrets if s in body], url
    page = client.get(f"/households/{world['a']['id']}").get_data(as_text=True)
    assert FIRST[-4:] in page or SECOND[-4:] in page  # the conflict is shown, masked
    # A manager still sees the conflict's values whole.
    whole = client.get(extra[0], headers=bearer(world["tokens"]["manager"])).get_json()["conflicts"]
    assert any(c["client_value"] in (FIRST, SECOND) for c in whole if c["field"] == "national_id")
