"""The three-way merge of household records, on plain dicts."""
from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest

from sync.merge import CLIENT, SERVER, changed_at, get_path, merge, set_path, status_pair_errors

SHA_A = "a" * 64
SHA_B = "b" * 64
SHA_C = "c" * 64


def record(**changes: Any) -> dict[str, Any]:
    base = {
        "id": "0f6d1c1e-8d1a-4a55-9a55-4f1c2b3d4e5f",
        "household_head": "Lò Văn Việt",
        "ethnicity": "Thái",
        "category": "poor",
        "members": 5,
        "national_id": "014085001234",
        "village": "Bản Lan Quynh",
        "declared_commune": "03871",
        "support_type": "new_build",
        "status": "approved",
        "status_dates": {"approved": "2025-01-20"},
        "funding": [{"source": "central_budget", "amount_vnd": 60000000}],
        "location": {"lat": 21.3312, "lon": 103.9104, "accuracy_m": 8.0},
        "photos": [{"sha256": SHA_A, "stage": "before"}],
        "captured_at": "2025-01-20T10:00:00+07:00",
        "note": "",
    }
    base.update(changes)
    return base


def test_identical_edits_are_merged_without_conflict() -> None:
    base = record()
    both = record(members=6, captured_at="2025-02-01T10:00:00+07:00")
    result = merge(base, both, copy.deepcopy(both))
    assert result.conflicts == []
    assert result.record["members"] == 6


def test_changes_to_different_fields_merge() -> None:
    base = record()
    server = record(members=6, captured_at="2025-02-01T10:00:00+07:00")
    client = record(village="Bản Mới", captured_at="2025-02-02T10:00:00+07:00")
    result = merge(base, server, client)
    assert result.outcome == "merged"
    assert result.record["members"] == 6
    assert result.record["village"] == "Bản Mới"
    assert "village" in result.client_changed and "members" not in result.client_changed
    assert "members" in result.server_changed and "village" not in result.server_changed
    assert result.record["captured_at"] == "2025-02-02T10:00:00+07:00"


def test_client_changing_nothing_keeps_server_record() -> None:
    base = record()
    server = record(members=7, captured_at="2025-02-01T10:00:00+07:00")
    result = merge(base, server, copy.deepcopy(base))
    assert result.outcome == "merged"
    assert result.client_changed == []
    assert {k: v for k, v in result.record.items()} == server


def test_same_field_changed_differently_is_a_conflict_later_capture_wins() -> None:
    base = record()
    server = record(household_head="Lò Văn Viết", captured_at="2025-02-01T10:00:00+07:00")
    client = record(household_head="Lò Văn Việc", captured_at="2025-02-03T10:00:00+07:00")
    result = merge(base, server, client)
    assert result.outcome == "conflict"
    [conflict] = result.conflicts
    assert conflict.path == "household_head"
    assert (conflict.base, conflict.server, conflict.client) == ("Lò Văn Việt", "Lò Văn Viết", "Lò Văn Việc")
    assert conflict.kept == CLIENT
    assert conflict.lost_value == "Lò Văn Viết"
    assert result.record["household_head"] == "Lò Văn Việc"


def test_winner_does_not_depend_on_arrival_order() -> None:
    base = record()
    one = record(members=6, captured_at="2025-02-01T10:00:00+07:00")
    two = record(members=8, captured_at="2025-02-01T09:00:00+07:00")
    assert merge(base, one, two).record["members"] == merge(base, two, one).record["members"] == 6
    # Equal capture times: still the same answer both ways.
    three = record(members=9, captured_at="2025-02-01T10:00:00+07:00")
    assert merge(base, one, three).record["members"] == merge(base, three, one).record["members"]


def test_status_conflict_keeps_the_further_stage() -> None:
    base = record()
    server = record(status="started", status_dates={"approved": "2025-01-20", "started": "2025-02-10"},
                    captured_at="2025-03-01T10:00:00+07:00")
    client = record(status="completed",
                    status_dates={"approved": "2025-01-20", "started": "2025-02-10", "completed": "2025-02-28"},
                    captured_at="2025-02-28T10:00:00+07:00")
    result = merge(base, server, client)
    assert result.record["status"] == "completed"
    status_conflict = next(c for c in result.conflicts if c.path == "status")
    assert status_conflict.kept == CLIENT
    assert result.record["status_dates"] == {"approved": "2025-01-20", "started": "2025-02-10",
                                             "completed": "2025-02-28"}
    assert status_pair_errors(result.record["status"], result.record["status_dates"]) == []


def test_stage_dates_merge_stage_by_stage() -> None:
    base = record(status="started", status_dates={"approved": "2025-01-20", "started": "2025-02-10"})
    server = record(status="started", status_dates={"approved": "2025-01-19", "started": "2025-02-10"})
    client = record(status="completed",
                    status_dates={"approved": "2025-01-20", "started": "2025-02-10", "completed": "2025-03-01"})
    result = merge(base, server, client)
    assert result.conflicts == []
    assert result.record["status"] == "completed"
    assert result.record["status_dates"] == {"approved": "2025-01-19", "started": "2025-02-10",
                                             "completed": "2025-03-01"}


def test_inconsistent_status_pair_is_taken_whole_from_the_status_winner() -> None:
    base = record(status="approved", status_dates={"approved": "2025-01-20"})
    # Server moved approval later; client started before that new approval date.
    server = record(status="approved", status_dates={"approved": "2025-02-20"})
    client = record(status="started", status_dates={"approved": "2025-01-20", "started": "2025-02-01"})
    result = merge(base, server, client)
    assert result.record["status"] == "started"
    assert result.record["status_dates"] == {"approved": "2025-01-20", "started": "2025-02-01"}
    [pair] = [c for c in result.conflicts if c.path == "status_dates"]
    assert pair.kept == CLIENT
    assert status_pair_errors(result.record["status"], result.record["status_dates"]) == []


def test_photos_merge_by_hash() -> None:
    base = record(photos=[{"sha256": SHA_A, "stage": "before"}])
    server = record(photos=[{"sha256": SHA_A, "stage": "before"}, {"sha256": SHA_B, "stage": "during"}])
    client = record(photos=[{"sha256": SHA_C, "stage": "after"}])  # removed A, added C
    result = merge(base, server, client)
    assert result.conflicts == []
    assert [p["sha256"] for p in result.record["photos"]] == [SHA_B, SHA_C]


def test_photo_stage_changed_both_ways_is_a_conflict_on_that_photo() -> None:
    base = record()
    server = record(photos=[{"sha256": SHA_A, "stage": "during"}], captured_at="2025-02-01T10:00:00+07:00")
    client = record(photos=[{"sha256": SHA_A, "stage": "after"}], captured_at="2025-01-30T10:00:00+07:00")
    result = merge(base, server, client)
    [conflict] = result.conflicts
    assert conflict.path == f"photos.{SHA_A}"
    assert conflict.kept == SERVER
    assert result.record["photos"] == [{"sha256": SHA_A, "stage": "during"}]


def test_location_merges_as_a_whole() -> None:
    base = record()
    server = record(location={"lat": 21.4, "lon": 103.9104, "accuracy_m": 8.0})
    client = record(location={"lat": 21.3312, "lon": 104.0, "accuracy_m": 8.0},
                    captured_at="2025-03-01T10:00:00+07:00")
    result = merge(base, server, client)
    [conflict] = result.conflicts
    assert conflict.path == "location"
    assert result.record["location"] == {"lat": 21.3312, "lon": 104.0, "accuracy_m": 8.0}


def test_no_base_every_differing_field_conflicts() -> None:
    server = record()
    client = record(members=2, note="khác")
    result = merge({}, server, client)
    assert sorted(c.path for c in result.conflicts) == ["members", "note"]
    assert result.record["household_head"] == "Lò Văn Việt"


@pytest.mark.parametrize("path, value", [
    ("members", 3),
    ("status_dates.started", "2025-02-01"),
    (f"photos.{SHA_A}", {"sha256": SHA_A, "stage": "after"}),
    (f"photos.{SHA_B}", {"sha256": SHA_B, "stage": "during"}),
])
def test_get_and_set_path_round_trip(path: str, value: Any) -> None:
    original = record()
    changed = set_path(original, path, value)
    assert get_path(changed, path) == value
    assert original == record()  # the input is not modified


def test_set_path_none_removes_unit() -> None:
    changed = set_path(record(), f"photos.{SHA_A}", None)
    assert changed["photos"] == []
    assert "approved" not in set_path(record(), "status_dates.approved", None)["status_dates"]


# ---- per-field times: the winner of a unit is the side that changed it later ----------------

def _replay(base: dict[str, Any], edits: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, str]]:
    """What the service does: the first edit replaces the base whole, each later one merges."""
    server = edits[0]
    times = changed_at(base, {}, server)
    for edit in edits[1:]:
        result = merge(base, server, edit, times)
        server, times = result.record, result.times
    return server, times


def test_an_unrelated_later_edit_does_not_decide_another_field() -> None:
    base = record()
    early = record(note="sớm", captured_at="2025-02-01T10:00:00+07:00")
    later_elsewhere = record(village="Bản Mới", captured_at="2025-02-09T10:00:00+07:00")
    late = record(note="muộn", captured_at="2025-02-05T10:00:00+07:00")
    server, times = _replay(base, [early, later_elsewhere])
    assert server["captured_at"] == "2025-02-09T10:00:00+07:00" and times["note"] == "2025-02-01T10:00:00+07:00"
    result = merge(base, server, late, times)
    [conflict] = result.conflicts
    assert (conflict.path, conflict.kept) == ("note", CLIENT)
    assert result.record["note"] == "muộn" and result.record["village"] == "Bản Mới"
    assert result.times["note"] == "2025-02-05T10:00:00+07:00"


def test_without_unit_times_the_record_time_decides_as_before() -> None:
    base = record()
    server = record(note="máy chủ", captured_at="2025-02-09T10:00:00+07:00")
    client = record(note="điện thoại", captured_at="2025-02-05T10:00:00+07:00")
    assert merge(base, server, client).conflicts[0].kept == SERVER
    assert merge(base, server, client, {"note": "2025-02-01T10:00:00+07:00"}).conflicts[0].kept == CLIENT


EDITS = [
    record(note="A", members=6, captured_at="2025-02-03T10:00:00+07:00"),
    record(village="B", photos=[{"sha256": SHA_A, "stage": "before"}, {"sha256": SHA_B, "stage": "during"}],
           captured_at="2025-02-09T10:00:00+07:00"),
    record(note="C", household_head="Lò Văn Việc", photos=[], captured_at="2025-02-05T10:00:00+07:00"),
    record(members=7, village="D", status="started", status_dates={"approved": "2025-01-20", "started": "2025-02-01"},
           photos=[{"sha256": SHA_A, "stage": "after"}, {"sha256": SHA_C, "stage": "after"}],
           captured_at="2025-02-02T10:00:00+07:00"),
    record(note="A", captured_at="2025-02-07T10:00:00+07:00"),  # A's note again, later than C's
]


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(EDITS)))))
def test_every_order_of_the_same_edits_gives_one_record_and_one_set_of_times(order: tuple[int, ...]) -> None:
    expected = _replay(record(), EDITS)
    assert _replay(record(), [EDITS[i] for i in order]) == expected
    final, _ = expected
    assert (final["note"], final["members"], final["village"], final["status"]) == ("A", 6, "B", "started")
    # A removed photo stays removed against an older change of it; the one added stays.
    assert [p["sha256"] for p in final["photos"]] == [SHA_B, SHA_C]


def test_a_same_value_from_a_later_phone_holds_from_the_later_time() -> None:
    base = record()
    first = record(note="x", captured_at="2025-02-01T10:00:00+07:00")
    again = record(note="x", captured_at="2025-02-08T10:00:00+07:00")
    times = changed_at(base, {}, first)
    result = merge(base, first, again, times)
    assert result.conflicts == [] and result.times.get("note") is None  # now the record's own time
    assert result.record["captured_at"] == "2025-02-08T10:00:00+07:00"


def test_changed_at_keeps_the_time_of_units_left_alone() -> None:
    before = record(captured_at="2025-02-01T10:00:00+07:00")
    after = record(members=9, captured_at="2025-02-04T10:00:00+07:00")
    times = changed_at(before, {"note": "2025-01-01T10:00:00+07:00"}, after)
    assert "members" not in times  # changed now: the record's own time
    assert times["note"] == "2025-01-01T10:00:00+07:00"
    assert times["village"] == "2025-02-01T10:00:00+07:00"
    assert changed_at(None, None, after) == {}
