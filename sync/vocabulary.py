"""The programme's words, defined once: codes, their Vietnamese and English labels, the time zone.

Schemas validate against these codes, the models name their columns after
them, and exports, pages and the demo label them from here, so a status or a
funding source reads the same in a page, a spreadsheet and the API. Pure data:
no Flask, no database.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

TIMEZONE = "Asia/Ho_Chi_Minh"
TZ = ZoneInfo(TIMEZONE)
LANGUAGES = ("vi", "en")

CATEGORIES = ("poor", "near_poor", "policy", "other")
SUPPORT_TYPES = ("new_build", "repair")
STAGES = ("surveyed", "approved", "started", "completed", "handed_over")
STATUSES = STAGES + ("withdrawn",)
SUPPORTED = ("completed", "handed_over")  # a household counts as supported once completed
FUNDING_SOURCES = ("central_budget", "local_budget", "social_fund", "enterprise", "household", "other")
STATE_SOURCES = ("central_budget",)  # what a plan's budget counts: the state norm per house
PHOTO_STAGES = ("before", "during", "after")
LEVELS = ("province", "district", "commune")
FLAGS = ("ambiguous", "outside", "swapped_coordinates", "mismatch")

# kind -> code -> (Vietnamese, English)
LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "status": {
        "surveyed": ("Đã khảo sát", "Surveyed"),
        "approved": ("Đã phê duyệt", "Approved"),
        "started": ("Đã khởi công", "Started"),
        "completed": ("Hoàn thành", "Completed"),
        "handed_over": ("Đã bàn giao", "Handed over"),
        "withdrawn": ("Rút khỏi danh sách", "Withdrawn"),
    },
    "support_type": {"new_build": ("Xây mới", "New build"), "repair": ("Sửa chữa", "Repair")},
    "category": {
        "poor": ("Hộ nghèo", "Poor"),
        "near_poor": ("Hộ cận nghèo", "Near-poor"),
        "policy": ("Gia đình chính sách", "Policy family"),
        "other": ("Hoàn cảnh khó khăn khác", "Other hardship"),
    },
    "funding": {
        "central_budget": ("Ngân sách trung ương", "Central budget"),
        "local_budget": ("Ngân sách địa phương", "Provincial budget"),
        "social_fund": ("Quỹ Vì người nghèo", "Fund for the Poor"),
        "enterprise": ("Doanh nghiệp", "Enterprises"),
        "household": ("Hộ gia đình", "Household"),
        "other": ("Nguồn khác", "Other"),
    },
    "photo_stage": {"before": ("Trước", "Before"), "during": ("Trong khi làm", "During"),
                    "after": ("Sau", "After")},
    "level": {"province": ("Tỉnh", "Province"), "district": ("Huyện", "District"),
              "commune": ("Xã", "Commune")},
    "flag": {
        "ambiguous": ("Sát ranh giới", "Near a boundary"),
        "outside": ("Ngoài ranh giới", "Outside every commune"),
        "swapped_coordinates": ("Đảo vĩ độ/kinh độ", "Swapped coordinates"),
        "mismatch": ("Khác xã khai báo", "Not the declared commune"),
        "conflict": ("Xung đột", "Conflict"),
    },
    "unit_type": {  # keyed by the type as the boundary files spell it
        "Xã": ("Xã", "Commune"), "Phường": ("Phường", "Ward"), "Thị trấn": ("Thị trấn", "Township"),
        "Huyện": ("Huyện", "District"), "Thành phố": ("Thành phố", "City"), "Thị xã": ("Thị xã", "Town"),
        "Tỉnh": ("Tỉnh", "Province"),
    },
    "yes": {"yes": ("Có", "Yes")},
    "total": {"total": ("Tổng cộng", "Total")},
}


def label(kind: str, code: str, lang: str = "vi") -> str:
    """The label of ``code`` in ``lang`` (``vi`` or ``en``); an unknown code reads as itself."""
    pair = LABELS[kind].get(code)
    if pair is None:
        return code
    return pair[1] if lang == "en" else pair[0]


def labels(kind: str, lang: str = "vi") -> dict[str, str]:
    """Every code of ``kind`` with its label in ``lang``."""
    return {code: label(kind, code, lang) for code in LABELS[kind]}


def today() -> date:
    """Today's date in Vietnam, the day every ``as_of`` defaults to."""
    return datetime.now(TZ).date()
