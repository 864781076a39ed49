"""Realistic Son La demo data: the 2025 plan and the household records behind it.

Everything here is pure and seeded: the same communes, plan and seed always
give the same rows, so a demo can be rebuilt and the tests can check it.
The figures follow the programme's 2025 result in Son La (3,058 houses:
2,653 new builds and 405 repairs) and the realism notes of the design brief:
ethnic mix, names, villages, the dry-season building calendar, funding norms
and the GPS mistakes officers really make. Shares are for generating data,
not for reports.

Communes come in as dicts or objects with ``code``, ``name``, ``district``,
``geometry`` (Shapely, lon/lat) and optionally ``type`` ("Xã", "Phường", ...).
"""
from __future__ import annotations

import math
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from tracker.demo import calendar, gps

NEW_BUILD_VND = 60_000_000
REPAIR_VND = 30_000_000
SON_LA_NEW_BUILDS = 2653
SON_LA_REPAIRS = 405
DEFAULT_SEED = 2025
SON_LA_ID_PREFIX = "014"  # province code at the head of a citizen ID number
URBAN_TYPES = {"Phường", "Thị trấn"}

# Approximate shares for Son La, ordered from valley and town to high slope:
# households are sorted by how "upland" their place is and the groups are
# laid over that order, so Kinh gather in towns and H'Mông on the heights
# while the province-wide shares stay exact.
ETHNIC_SHARES: dict[str, float] = {
    "Kinh": 0.16, "Mường": 0.08, "Thái": 0.54, "Lào": 0.002, "Kháng": 0.005,
    "La Ha": 0.003, "Xinh Mun": 0.008, "Khơ Mú": 0.012, "Dao": 0.02, "H'Mông": 0.17,
}
FAMILY_NAMES: dict[str, tuple[str, ...]] = {
    "Thái": ("Lò", "Lường", "Cầm", "Quàng", "Tòng", "Vì", "Hà", "Điêu", "Bạc"),
    "H'Mông": ("Sùng", "Giàng", "Mùa", "Vàng", "Thào", "Lầu", "Hờ"),
    "Mường": ("Đinh", "Bùi", "Xa"),
    "Kinh": ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng"),
    "Dao": ("Bàn", "Triệu", "Đặng", "Lý"),
    "Khơ Mú": ("Lò", "Quàng", "Vì", "Cà"),
    "Xinh Mun": ("Lò", "Lường", "Vì"),
    "Kháng": ("Lò", "Quàng", "Lường"),
    "La Ha": ("Lò", "Quàng", "Cầm"),
    "Lào": ("Lò", "Vì", "Lường"),
}
# (men, women) given names; groups without their own list use the nearest one.
GIVEN_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Thái": (
        ("Khăm", "Pánh", "Ún", "Phóng", "Quyết", "Hặc", "Inh", "Xôm", "Ơn", "Phanh",
         "Hoan", "Tuấn", "Thương", "Việt", "Chiến", "Hưởng", "Đôi", "Thiết", "Khánh", "Biên"),
        ("Ỏn", "Én", "Piêng", "Xuân", "Duyên", "Hoa", "Ngân", "Thoa", "Ín", "Ánh",
         "Hương", "Lả", "Cương", "Nhung", "Mai"),
    ),
    "H'Mông": (
        ("Páo", "Chư", "Dơ", "Súa", "Lử", "Sềnh", "Chá", "Tủa", "Pó", "Vừ",
         "Lù", "Sình", "Dế", "Thề", "Chứ", "Nhè"),
        ("Dở", "Mỷ", "Mái", "Ly", "Pà", "Xúa", "Dua", "Cở", "Mào", "Say", "Sua", "Chở"),
    ),
    "Kinh": (
        ("Hùng", "Dũng", "Tuấn", "Minh", "Nam", "Quang", "Thắng", "Hải", "Sơn", "Đức",
         "Long", "Cường", "Hòa", "Bình"),
        ("Lan", "Hương", "Hoa", "Mai", "Hằng", "Thu", "Nga", "Hạnh", "Linh", "Thủy",
         "Yến", "Loan"),
    ),
}
NAME_POOL = {"H'Mông": "H'Mông", "Dao": "H'Mông", "Kinh": "Kinh", "Mường": "Kinh"}
VILLAGE_HEADS = ("Nà", "Huổi", "Pá", "Phiêng", "Nậm", "Co", "Hua", "Bó", "Tà", "Púng",
                 "Ít", "Lọng", "Pom", "Khau", "Háng", "Hang", "Kéo", "Tả", "Sam", "Có")
VILLAGE_TAILS = ("Sài", "Một", "Khoang", "Líu", "Hạ", "Pàu", "Ban", "Pia", "Mạy", "Lứa",
                 "Cang", "Nong", "Lằn", "Chạy", "Ún", "Luông", "Xa", "Hin", "Tỉu", "Mòn",
                 "Khoai", "Mo", "Phát", "Pẻn", "Chà", "Lìu", "Lay", "Quynh", "Lan")
CATEGORY_SHARES = (("poor", 0.60), ("near_poor", 0.27), ("policy", 0.07), ("other", 0.06))
TOP_UPS = (("social_fund", 0.50), ("local_budget", 0.35), ("enterprise", 0.15))
TOP_UP_MILLIONS = (5, 6, 8, 10, 12, 15, 20)
NOTES = ("Hộ neo đơn, người cao tuổi", "Gia đình có người khuyết tật",
         "Tháo dỡ nhà cũ, dựng lại trên nền cũ", "Đoàn thanh niên hỗ trợ ngày công",
         "Đường vào bản khó đi, vận chuyển vật liệu chậm", "Hộ góp thêm gỗ và ngày công")



@dataclass(frozen=True)
class DemoCommune:
    """The few facts about a commune the generator needs."""

    code: str
    name: str
    district: str | None
    geometry: BaseGeometry
    type: str | None = None

    @property
    def urban(self) -> bool:
        """Wards and towns have street blocks (tiểu khu), not upland villages."""
        return self.type in URBAN_TYPES


def communes_from_features(features: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Turn GeoJSON commune features into the plain dicts the generator takes."""
    return [
        {
            "code": f["properties"]["code"],
            "name": f["properties"].get("name", ""),
            "district": f["properties"].get("district"),
            "type": f["properties"].get("type"),
            "geometry": shape(f["geometry"]),
        }
        for f in features
    ]


# ---------------------------------------------------------------- the plan


def demo_plan(communes: Iterable[Any], new_build: int = SON_LA_NEW_BUILDS,
              repair: int = SON_LA_REPAIRS, seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    """Per-commune targets adding up exactly to ``new_build`` and ``repair``.

    Every commune gets at least one house; sizes are skewed (a few communes
    carry large targets, as in the real programme) and upland communes weigh
    more than wards and towns. Rows are sorted by commune code.
    """
    items = _normalise(communes)
    if len(items) > new_build + repair:
        raise ValueError("more communes than houses: every commune needs at least one")
    rng = np.random.default_rng(seed)
    weights = np.array([_plan_weight(c, rng) for c in items])
    houses = _allocate(new_build + repair, weights, minimum=1)
    repairs = _choose_repairs(houses, repair, rng)
    return [
        {"commune_code": c.code, "new_build": int(h - r), "repair": int(r),
         "budget_vnd": int(h - r) * NEW_BUILD_VND + int(r) * REPAIR_VND}
        for c, h, r in zip(items, houses, repairs)
    ]


def _plan_weight(commune: DemoCommune, rng: np.random.Generator) -> float:
    """Log-normal need, damped for towns, a little larger for large communes."""
    need = rng.lognormal(0.0, 0.9)
    area = max(commune.geometry.area, 1e-6)
    return need * (0.2 if commune.urban else 1.0) * area ** 0.3


def _allocate(total: int, weights: np.ndarray, minimum: int) -> np.ndarray:
    """Largest-remainder split of ``total`` by ``weights`` with a floor per item."""
    spare = total - minimum * len(weights)
    exact = spare * weights / weights.sum()
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: spare - counts.sum()]] += 1
    return counts + minimum


def _choose_repairs(houses: np.ndarray, repair: int, rng: np.random.Generator) -> np.ndarray:
    """Pick which houses are repairs, communes differing in how many old houses they have."""
    propensity = rng.beta(2.0, 8.0, size=len(houses))
    owner = np.repeat(np.arange(len(houses)), houses)
    weights = propensity[owner] / propensity[owner].sum()
    chosen = rng.choice(len(owner), size=repair, replace=False, p=weights)
    return np.bincount(owner[chosen], minlength=len(houses))


# ---------------------------------------------------------- the households


def demo_households(communes: Iterable[Any], plan_rows: Iterable[dict[str, Any]],
                    today: date, seed: int = DEFAULT_SEED,
                    fraction: float = 1.0) -> list[dict[str, Any]]:
    """One household record (push format) per planned house, as of ``today``.

    ``fraction`` below 1 keeps that share of each commune's new builds and
    repairs (rounded), for quick demos. Records are sorted by ``captured_at``.
    """
    by_code = {c.code: c for c in _normalise(communes)}
    rng = np.random.default_rng(seed)
    slots = _slots(plan_rows, by_code, fraction)
    ethnicities = _ethnicities(slots, by_code, rng)
    villages = _village_choices(slots, by_code, rng)
    used_ids: set[str] = set()
    timelines = [calendar.timeline(support, rng) for _, support in slots]
    calendar.calibrate(timelines)
    records = [
        _household(code, support, ethnicity, villages[i][0], calendar.clip_to(today, timelines[i]), rng, used_ids)
        for i, ((code, support), ethnicity) in enumerate(zip(slots, ethnicities))
    ]
    gps.place(records, slots, villages, by_code, rng)
    return sorted(records, key=lambda r: (r["captured_at"], r["id"]))


def _slots(plan_rows: Iterable[dict[str, Any]], by_code: dict[str, DemoCommune],
           fraction: float) -> list[tuple[str, str]]:
    """(commune code, support type) for every house to generate."""
    slots = []
    for row in sorted(plan_rows, key=lambda r: r["commune_code"]):
        if row["commune_code"] not in by_code:
            raise ValueError(f"plan names unknown commune {row['commune_code']}")
        for support in ("new_build", "repair"):
            count = int(row[support]) if fraction >= 1 else round(int(row[support]) * fraction)
            slots += [(row["commune_code"], support)] * count
    return slots


def _ethnicities(slots: list[tuple[str, str]], by_code: dict[str, DemoCommune],
                 rng: np.random.Generator) -> list[str]:
    """Exact province-wide shares, laid from valley/town households to upland ones."""
    height = {code: (-2.0 if c.urban else rng.normal()) for code, c in by_code.items()}
    score = np.array([height[code] for code, _ in slots]) + rng.normal(0, 0.8, len(slots))
    groups = list(ETHNIC_SHARES)
    counts = _allocate(len(slots), np.array(list(ETHNIC_SHARES.values())), minimum=0)
    ordered = np.repeat(np.arange(len(groups)), counts)
    result = [""] * len(slots)
    for rank, index in enumerate(np.argsort(score, kind="stable")):
        result[index] = groups[ordered[rank]]
    return result


def _village_choices(slots: list[tuple[str, str]], by_code: dict[str, DemoCommune],
                     rng: np.random.Generator) -> list[tuple[str, Point]]:
    """Each household's village name and the village centre it clusters around."""
    villages = {}
    for code in dict.fromkeys(code for code, _ in slots):
        size = sum(1 for c, _ in slots if c == code)
        villages[code] = _villages(by_code[code], size, rng)
    chosen = []
    for code, _ in slots:
        options, weights = villages[code]
        chosen.append(options[rng.choice(len(options), p=weights)])
    return chosen


def _villages(commune: DemoCommune, households: int,
              rng: np.random.Generator) -> tuple[list[tuple[str, Point]], np.ndarray]:
    """A few named villages (Bản …, or Tiểu khu … in towns) with their centres."""
    count = int(np.clip(round(1.5 * math.sqrt(households)), 2, 12))
    if commune.urban:
        numbers = sorted(rng.choice(np.arange(1, 16), size=count, replace=False))
        names = [f"Tiểu khu {n}" for n in numbers]
    else:
        pairs = rng.choice(len(VILLAGE_HEADS) * len(VILLAGE_TAILS), size=count, replace=False)
        tails = len(VILLAGE_TAILS)
        names = [f"Bản {VILLAGE_HEADS[p // tails]} {VILLAGE_TAILS[p % tails]}" for p in pairs]
    centres = gps.uniform_points(commune.geometry, count, rng, margin_m=300.0)
    weights = rng.dirichlet(np.full(count, 2.0))
    return [(_nfc(n), p) for n, p in zip(names, centres)], weights


def _household(code: str, support: str, ethnicity: str, village: str, stages: dict[str, date],
               rng: np.random.Generator, used_ids: set[str]) -> dict[str, Any]:
    """Everything about one household except its GPS point (``stages``: its dates, cut at today)."""
    male = rng.random() < 0.72
    born = int(round(rng.triangular(1948, 1976, 2002)))
    status = next(reversed(stages))
    return {
        "id": str(uuid.UUID(bytes=rng.bytes(16), version=4)),
        "base_revision": None,
        "household_head": _name(ethnicity, male, rng),
        "ethnicity": _nfc(ethnicity),
        "category": _pick(CATEGORY_SHARES, rng),
        "members": _members(ethnicity, rng),
        "national_id": _national_id(male, born, rng, used_ids),
        "village": village,
        "declared_commune": code,
        "support_type": support,
        "status": status,
        "status_dates": {stage: day.isoformat() for stage, day in stages.items()},
        "funding": _funding(support, rng),
        "location": None,
        "photos": [],
        "captured_at": calendar.stamp(stages[status], rng, afternoon=True),
        "note": _nfc(NOTES[rng.integers(len(NOTES))]) if rng.random() < 0.12 else "",
    }


def _name(ethnicity: str, male: bool, rng: np.random.Generator) -> str:
    """Family name of the group, Văn or Thị, and a common given name."""
    family = FAMILY_NAMES[ethnicity]
    men, women = GIVEN_NAMES[NAME_POOL.get(ethnicity, "Thái")]
    given = men if male else women
    middle = "Văn" if male else "Thị"
    return _nfc(f"{family[rng.integers(len(family))]} {middle} {given[rng.integers(len(given))]}")


def _members(ethnicity: str, rng: np.random.Generator) -> int:
    """Household size 1-9; H'Mông and Dao families tend to be larger."""
    mean = 4.0 if ethnicity in ("H'Mông", "Dao") else 2.8
    return int(np.clip(1 + rng.poisson(mean), 1, 9))


def _national_id(male: bool, born: int, rng: np.random.Generator, used: set[str]) -> str:
    """12 digits: province 014, sex/century digit, year of birth, six random digits."""
    century = 0 if born < 2000 else 2
    while True:
        number = (f"{SON_LA_ID_PREFIX}{century + (0 if male else 1)}{born % 100:02d}"
                  f"{rng.integers(1_000_000):06d}")
        if number not in used:
            used.add(number)
            return number


def _funding(support: str, rng: np.random.Generator) -> list[dict[str, Any]]:
    """The state norm, often a top-up (Fund for the Poor, province, a firm), sometimes own money."""
    lines = [{"source": "central_budget",
              "amount_vnd": NEW_BUILD_VND if support == "new_build" else REPAIR_VND}]
    sources = [s for s, _ in TOP_UPS]
    weights = np.array([w for _, w in TOP_UPS])
    extra = 0 if rng.random() >= 0.75 else (2 if rng.random() < 0.15 else 1)
    for source in rng.choice(sources, size=extra, replace=False, p=weights):
        lines.append({"source": str(source),
                      "amount_vnd": int(rng.choice(TOP_UP_MILLIONS)) * 1_000_000})
    if rng.random() < (0.40 if support == "new_build" else 0.25):
        top = 50 if support == "new_build" else 15
        own = int(rng.integers(2, top + 1)) * 1_000_000
        lines.append({"source": "household", "amount_vnd": own})
    return lines


# ----------------------------------------------------------------- helpers


def _normalise(communes: Iterable[Any]) -> list[DemoCommune]:
    """Accept dicts or objects; sort by code so input order never changes the result."""
    items = [
        DemoCommune(code=str(_get(c, "code")), name=_get(c, "name", "") or "",
                    district=_get(c, "district"), geometry=_get(c, "geometry"),
                    type=_get(c, "type"))
        for c in communes
    ]
    return sorted(items, key=lambda c: c.code)


def _get(item: Any, key: str, default: Any = None) -> Any:
    if isinstance(item, dict):
        return item.get(key, default)
    return getattr(item, key, default)


def _pick(options: tuple[tuple[str, float], ...], rng: np.random.Generator) -> str:
    """One label from (label, probability) pairs."""
    labels = [label for label, _ in options]
    weights = np.array([weight for _, weight in options], dtype=float)
    return labels[int(rng.choice(len(labels), p=weights / weights.sum()))]


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)
