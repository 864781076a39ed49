"""The demo generator: exact plan totals and households a Son La officer recognises."""
from __future__ import annotations

import re
import unicodedata
import uuid
from collections import Counter
from datetime import date

import pytest
import shapely
from shapely.geometry import Point

from sync.vocabulary import STATUSES as STAGES
from tracker.demo.generate import (
    ETHNIC_SHARES,
    FAMILY_NAMES,
    NEW_BUILD_VND,
    REPAIR_VND,
    communes_from_features,
    demo_households,
    demo_plan,
)
from tracker.geo.sources import SON_LA_2024_COMMUNES, boundary_file, read_features
from tracker.geo.synthetic import synthetic_province

TODAY = date(2025, 11, 1)
PUSH_KEYS = {
    "id", "base_revision", "household_head", "ethnicity", "category", "members",
    "national_id", "village", "declared_commune", "support_type", "status",
    "status_dates", "funding", "location", "photos", "captured_at", "note",
}
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$")
TOP_UP_SOURCES = {"local_budget", "social_fund", "enterprise"}
FINAL_STAGES = ("surveyed", "approved", "started", "completed", "handed_over")


def _real_communes():
    path = boundary_file(SON_LA_2024_COMMUNES)
    if path is None:
        pytest.skip("real 2024 Son La communes not available")
    return communes_from_features(read_features(path))


@pytest.fixture(scope="module", params=["synthetic", "son_la_2024"])
def demo(request):
    """(communes by code, plan rows, households) for one commune set."""
    if request.param == "synthetic":
        communes = communes_from_features(synthetic_province(7).communes)
    else:
        communes = _real_communes()
    plan = demo_plan(communes)
    households = demo_households(communes, plan, TODAY)
    return {c["code"]: c for c in communes}, plan, households


# ------------------------------------------------------------------ plan


def test_plan_totals_are_exact(demo):
    communes, plan, _ = demo
    assert sum(r["new_build"] for r in plan) == 2653
    assert sum(r["repair"] for r in plan) == 405
    assert sum(r["new_build"] + r["repair"] for r in plan) == 3058
    assert sorted(r["commune_code"] for r in plan) == sorted(communes)


def test_plan_rows_and_budgets(demo):
    _, plan, _ = demo
    for row in plan:
        assert set(row) == {"commune_code", "new_build", "repair", "budget_vnd"}
        assert all(type(row[k]) is int for k in ("new_build", "repair", "budget_vnd"))
        assert row["new_build"] + row["repair"] >= 1
        assert row["new_build"] >= 0 and row["repair"] >= 0
        assert row["budget_vnd"] == 60_000_000 * row["new_build"] + 30_000_000 * row["repair"]
    assert sum(r["budget_vnd"] for r in plan) == 2653 * 60_000_000 + 405 * 30_000_000


def test_plan_is_skewed_and_favours_upland_communes(demo):
    communes, plan, _ = demo
    sizes = sorted((r["new_build"] + r["repair"] for r in plan), reverse=True)
    assert sizes[0] >= 2 * sizes[len(sizes) // 2]
    assert sum(sizes[: len(sizes) // 4]) >= 0.4 * sum(sizes)  # an even split gives 25 %
    urban = [r["new_build"] + r["repair"] for r in plan
             if communes[r["commune_code"]]["type"] in ("Phường", "Thị trấn")]
    upland = [r["new_build"] + r["repair"] for r in plan
              if communes[r["commune_code"]]["type"] == "Xã"]
    assert urban and sum(urban) / len(urban) < sum(upland) / len(upland)


def test_plan_with_other_totals_and_input_order():
    communes = communes_from_features(synthetic_province(3).communes)
    plan = demo_plan(communes, new_build=100, repair=17, seed=5)
    assert sum(r["new_build"] for r in plan) == 100 and sum(r["repair"] for r in plan) == 17
    assert demo_plan(list(reversed(communes)), new_build=100, repair=17, seed=5) == plan
    assert demo_plan(communes, new_build=100, repair=17, seed=6) != plan


def test_plan_refuses_fewer_houses_than_communes():
    communes = communes_from_features(synthetic_province(3).communes)
    with pytest.raises(ValueError):
        demo_plan(communes, new_build=3, repair=2)


# ------------------------------------------------------------ households


def test_one_household_per_planned_house(demo):
    _, plan, households = demo
    assert len(households) == 3058
    counts = Counter((h["declared_commune"], h["support_type"]) for h in households)
    for row in plan:
        assert counts[(row["commune_code"], "new_build")] == row["new_build"]
        assert counts[(row["commune_code"], "repair")] == row["repair"]


def test_records_have_the_push_shape(demo):
    _, _, households = demo
    for h in households:
        assert set(h) == PUSH_KEYS
        assert uuid.UUID(h["id"]).version == 4
        assert h["base_revision"] is None and h["photos"] == []
        assert h["category"] in {"poor", "near_poor", "policy", "other"}
        assert type(h["members"]) is int and 1 <= h["members"] <= 9
        assert h["support_type"] in {"new_build", "repair"}
        assert set(h["location"]) == {"lat", "lon", "accuracy_m", "captured_at"}
        assert STAMP.match(h["captured_at"]) and STAMP.match(h["location"]["captured_at"])
    assert len({h["id"] for h in households}) == len(households)
    categories = Counter(h["category"] for h in households)
    assert categories["poor"] + categories["near_poor"] > 0.8 * len(households)
    assert categories["policy"] > 0 and categories["other"] > 0


def test_ethnic_shares(demo):
    _, _, households = demo
    counts = Counter(h["ethnicity"] for h in households)
    assert set(counts) == set(ETHNIC_SHARES)
    for group, share in ETHNIC_SHARES.items():
        assert counts[group] / len(households) == pytest.approx(share, abs=0.01)


def test_kinh_gather_in_wards_and_towns(demo):
    communes, _, households = demo
    urban = [h for h in households
             if communes[h["declared_commune"]]["type"] in ("Phường", "Thị trấn")]
    kinh = sum(h["ethnicity"] == "Kinh" for h in urban) / len(urban)
    assert kinh > 0.3  # the province-wide share is 16 %


def test_names_follow_the_groups_with_diacritics(demo):
    _, _, households = demo
    for h in households:
        for key in ("household_head", "ethnicity", "village", "note"):
            assert unicodedata.is_normalized("NFC", h[key])
        family, middle, given = h["household_head"].split(" ")
        assert family in FAMILY_NAMES[h["ethnicity"]]
        assert middle in ("Văn", "Thị") and given
    non_ascii = sum(not h["household_head"].isascii() for h in households)
    assert non_ascii > 0.9 * len(households)


def test_villages_are_ban_upland_and_tieu_khu_in_towns(demo):
    communes, _, households = demo
    for h in households:
        urban = communes[h["declared_commune"]]["type"] in ("Phường", "Thị trấn")
        assert h["village"].startswith("Tiểu khu " if urban else "Bản ")
    per_commune = Counter(h["declared_commune"] for h in households)
    villages = {(h["declared_commune"], h["village"]) for h in households}
    assert len(villages) > len(per_commune)  # large communes have several villages


def test_national_ids_are_son_la_and_match_sex(demo):
    _, _, households = demo
    ids = [h["national_id"] for h in households]
    assert len(set(ids)) == len(ids)
    for h in households:
        nid = h["national_id"]
        assert len(nid) == 12 and nid.isdigit() and nid.startswith("014")
        male = h["household_head"].split(" ")[1] == "Văn"
        assert nid[3] in (("0", "2") if male else ("1", "3"))
        born = (1900 if nid[3] in "01" else 2000) + int(nid[4:6])
        assert 1940 <= born <= 2007


def _classify(h, communes):
    """ok, zero, swapped or border, or None for a point that should not exist."""
    area = communes[h["declared_commune"]]["geometry"]
    lat, lon, accuracy = h["location"]["lat"], h["location"]["lon"], h["location"]["accuracy_m"]
    if area.contains(Point(lon, lat)):
        edge_m = area.boundary.distance(Point(lon, lat)) * 111_320 * 0.93
        return "ok" if edge_m > accuracy else "border"
    if (lat, lon) == (0.0, 0.0):
        return "zero"
    if area.contains(Point(lat, lon)):
        return "swapped"
    if area.boundary.distance(Point(lon, lat)) * 111_320 < accuracy:
        return "border"
    return None


def test_gps_points_lie_in_the_declared_commune_except_a_few_mistakes(demo):
    communes, _, households = demo
    kinds = Counter(_classify(h, communes) for h in households)
    assert kinds[None] == 0
    mistakes = kinds["zero"] + kinds["swapped"] + kinds["border"]
    assert 0.002 * len(households) <= mistakes <= 0.01 * len(households)
    assert kinds["zero"] >= 1 and kinds["swapped"] >= 1 and kinds["border"] >= 1


def test_gps_accuracy_is_mostly_good(demo):
    _, _, households = demo
    accuracy = [h["location"]["accuracy_m"] for h in households]
    assert all(isinstance(a, float) and 3.0 <= a <= 80.0 for a in accuracy)
    good = sum(a <= 25.0 for a in accuracy)
    assert 0.8 * len(accuracy) <= good < len(accuracy)


def test_status_dates_are_in_stage_order_and_not_in_the_future(demo):
    _, _, households = demo
    for h in households:
        dates = h["status_dates"]
        assert set(dates) <= set(STAGES) and dates
        values = [date.fromisoformat(d) for d in dates.values()]
        assert values == sorted(values) and max(values) <= TODAY
        reached = [s for s in FINAL_STAGES if s in dates]
        assert reached == list(FINAL_STAGES[: len(reached)])
        assert h["status"] == list(dates)[-1]
        assert h["captured_at"][:10] == dates[h["status"]]


def test_building_calendar_gives_son_la_reported_counts_exactly(demo):
    _, _, households = demo
    total = len(households)
    assert total == 3058

    def reached_by(stage, day):
        return sum(h["status_dates"].get(stage, "9999") <= day for h in households)

    assert reached_by("completed", "2025-04-16") == 2553, "supported on 16 April (88.24 % of 2,893)"
    assert reached_by("completed", "2025-04-17") > 2553
    assert reached_by("started", "2025-03-31") == 2337, "under way in the first quarter"
    assert 0.94 * total <= reached_by("completed", "2025-05-19") < total, "a short tail after the deadline"
    assert reached_by("completed", "2025-12-31") == total, "every house finished"
    statuses = Counter(h["status"] for h in households)
    assert set(statuses) <= {"completed", "handed_over"}


def test_a_smaller_demo_keeps_the_reported_shares(small):
    communes, plan = small
    households = demo_households(communes, plan, TODAY, fraction=0.2)
    n = len(households)
    done = sum(h["status_dates"].get("completed", "9999") <= "2025-04-16" for h in households)
    assert done == round(2553 * n / 3058)


def test_funding_lines(demo):
    _, _, households = demo
    topped_up = 0
    for h in households:
        central = [f for f in h["funding"] if f["source"] == "central_budget"]
        expected = NEW_BUILD_VND if h["support_type"] == "new_build" else REPAIR_VND
        assert [f["amount_vnd"] for f in central] == [expected]
        for line in h["funding"]:
            assert type(line["amount_vnd"]) is int and line["amount_vnd"] > 0
            if line["source"] in TOP_UP_SOURCES:
                assert 5_000_000 <= line["amount_vnd"] <= 20_000_000
        sources = [f["source"] for f in h["funding"]]
        assert len(sources) == len(set(sources))
        topped_up += bool(TOP_UP_SOURCES & set(sources))
    assert 0.5 * len(households) < topped_up < len(households)
    assert any(f["source"] == "household" for h in households for f in h["funding"])


# ------------------------------------------------- determinism and options


@pytest.fixture(scope="module")
def small():
    communes = communes_from_features(synthetic_province(11).communes)
    return communes, demo_plan(communes, seed=1)


def test_same_seed_same_households(small):
    communes, plan = small
    first = demo_households(communes, plan, TODAY, seed=4, fraction=0.2)
    assert demo_households(list(reversed(communes)), plan, TODAY, seed=4, fraction=0.2) == first
    other = demo_households(communes, plan, TODAY, seed=5, fraction=0.2)
    assert {h["id"] for h in other}.isdisjoint({h["id"] for h in first})


def test_fraction_keeps_a_share_of_each_commune(small):
    communes, plan = small
    households = demo_households(communes, plan, TODAY, fraction=0.1)
    counts = Counter((h["declared_commune"], h["support_type"]) for h in households)
    for row in plan:
        assert counts[(row["commune_code"], "new_build")] == round(row["new_build"] * 0.1)
        assert counts[(row["commune_code"], "repair")] == round(row["repair"] * 0.1)


def test_an_early_today_cuts_the_timeline(small):
    communes, plan = small
    today = date(2025, 3, 1)
    households = demo_households(communes, plan, today, fraction=0.5)
    for h in households:
        assert max(date.fromisoformat(d) for d in h["status_dates"].values()) <= today
        assert date.fromisoformat(h["captured_at"][:10]) <= today
    statuses = Counter(h["status"] for h in households)
    assert statuses["started"] > statuses["completed"] + statuses["handed_over"]


def test_unknown_commune_in_plan_is_refused(small):
    communes, _ = small
    with pytest.raises(ValueError):
        demo_households(communes, [{"commune_code": "00000", "new_build": 1, "repair": 0,
                                    "budget_vnd": 60_000_000}], TODAY)


def test_plain_objects_work_as_communes(small):
    communes, plan = small

    class Commune:
        def __init__(self, row):
            self.__dict__.update(row)

    objects = [Commune(c) for c in communes]
    assert demo_plan(objects, seed=1) == plan
    assert all(isinstance(c["geometry"], shapely.Geometry) for c in communes)
