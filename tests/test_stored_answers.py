"""The communes map of a day is built once and sent by every worker, until a change reaches that day."""
from __future__ import annotations

import gzip
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.sync_support import COMMUNE_1, push, results
from tests.test_tally_snapshots import _household, _setup
from tracker.dbtypes import utcnow
from tracker.extensions import db
from tracker.progress.models import StoredAnswer

APRIL = date(2025, 4, 20)


def _fresh_worker(client: Any) -> None:
    """Forget everything this app remembers of reports, as a worker just started would."""
    client.application.extensions = {k: v for k, v in client.application.extensions.items()
                                     if not k.startswith("progress_")}


def _map(client: Any, auth: str, gzip_ok: bool = True, query: str = "") -> tuple[dict[str, Any], Any]:
    _fresh_worker(client)
    headers = {"Authorization": f"Bearer {auth}", **({"Accept-Encoding": "gzip"} if gzip_ok else {})}
    answer = client.get(f"/api/v1/map/communes.geojson?as_of={APRIL}&zoom=8{query}", headers=headers)
    assert answer.status_code == 200, answer.data[:300]
    body = gzip.decompress(answer.data) if answer.headers.get("Content-Encoding") == "gzip" else answer.data
    return json.loads(body), answer


def _completed(collection: dict[str, Any]) -> dict[str, int]:
    return {f["id"]: f["properties"]["completed"]["total"] for f in collection["features"]}


def _stored() -> list[tuple[date, str]]:
    db.session.expire_all()
    return [tuple(row) for row in db.session.execute(select(StoredAnswer.day, StoredAnswer.name))]


def test_the_map_of_a_day_is_built_once_then_sent_as_stored(client, tmp_path: Path) -> None:
    officer, boss = _setup(client, tmp_path)
    results(push(client, officer, [_household(date(2025, 3, 1)), _household(date(2025, 3, 2))]))
    built, first = _map(client, boss)
    assert sum(_completed(built).values()) == 2
    assert _stored() == [(APRIL, "map:8")]
    again, second = _map(client, boss)  # another worker: the stored answer, byte for byte
    assert again == built and second.data == first.data and second.headers["ETag"] == first.headers["ETag"]
    plain, answer = _map(client, boss, gzip_ok=False)  # a client that takes no gzip gets it unpacked
    assert "Content-Encoding" not in answer.headers and plain == built
    etag = second.headers["ETag"]
    _fresh_worker(client)
    unchanged = client.get(f"/api/v1/map/communes.geojson?as_of={APRIL}&zoom=8",
                           headers={"Authorization": f"Bearer {boss}", "Accept-Encoding": "gzip", "If-None-Match": etag})
    assert unchanged.status_code == 304


def test_a_change_reaching_the_day_deletes_the_stored_map(client, tmp_path: Path) -> None:
    officer, boss = _setup(client, tmp_path)
    results(push(client, officer, [_household(date(2025, 3, 1))]))
    before, _ = _map(client, boss)
    assert sum(_completed(before).values()) == 1
    results(push(client, officer, [_household(date(2025, 3, 5))]))
    assert _stored() == []
    after, _ = _map(client, boss)
    assert sum(_completed(after).values()) == 2


def test_past_known_at_and_scoped_maps_are_never_stored_nor_read(client, tmp_path: Path) -> None:
    officer, boss = _setup(client, tmp_path)
    results(push(client, officer, [_household(date(2025, 3, 1))]))
    scoped, _ = _map(client, officer)
    assert sum(_completed(scoped).values()) == 1 and _stored() == []
    an_hour_ago = (utcnow() - timedelta(hours=1)).isoformat()
    past, _ = _map(client, boss, query=f"&known_at={an_hour_ago}")
    assert sum(_completed(past).values()) == 0 and _stored() == []
    _map(client, boss)
    assert _stored() == [(APRIL, "map:8")]
    past_again, _ = _map(client, boss, query=f"&known_at={an_hour_ago}")  # not the stored answer of now
    assert sum(_completed(past_again).values()) == 0


def test_a_new_plan_revision_is_not_served_the_old_map(client, tmp_path: Path, app) -> None:
    from tracker.boundaries.service import get_set
    from tracker.plans.service import add_revision

    officer, boss = _setup(client, tmp_path)
    results(push(client, officer, [_household(date(2025, 3, 1))]))
    add_revision("Plan", get_set("test"), [{"commune_code": COMMUNE_1, "new_build": 5, "repair": 0}],
                 deadline=date(2025, 5, 19), effective=date(2025, 1, 1))
    db.session.commit()
    first, _ = _map(client, boss, query="&plan=Plan")
    planned = {f["id"]: f["properties"]["planned"]["total"] for f in first["features"]}
    assert planned[COMMUNE_1] == 5
    add_revision("Plan", get_set("test"), [{"commune_code": COMMUNE_1, "new_build": 7, "repair": 0}],
                 deadline=date(2025, 5, 19), effective=date(2025, 1, 1))
    db.session.commit()
    second, _ = _map(client, boss, query="&plan=Plan")
    assert {f["id"]: f["properties"]["planned"]["total"] for f in second["features"]}[COMMUNE_1] == 7
