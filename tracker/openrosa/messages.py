"""What the officer reads in Collect after sending: in Vietnamese, saying what happened."""
from __future__ import annotations

from typing import Any

from tracker.openrosa.models import HELD, OpenRosaSubmission

FIELD_NAMES = {
    "household_head": "họ tên chủ hộ", "ethnicity": "dân tộc", "category": "diện hộ", "members": "số nhân khẩu",
    "national_id": "số CCCD", "village": "thôn, bản", "declared_commune": "xã", "support_type": "hình thức hỗ trợ",
    "status": "tiến độ", "status_dates": "ngày các bước", "funding": "nguồn vốn", "location": "vị trí GPS",
    "photos": "ảnh", "captured_at": "thời điểm nhập", "note": "ghi chú", "id": "mã hộ", "base_revision": "phiên bản",
}
FLAG_NAMES = {"ambiguous": "gần ranh giới xã", "outside": "nằm ngoài mọi xã",
              "swapped_coordinates": "vĩ độ và kinh độ bị đảo", "mismatch": "khác xã đã khai báo"}
RESULTS = {
    "created": "Đã ghi hộ mới",
    "updated": "Đã cập nhật hộ",
    "merged": "Đã gộp phiếu với thay đổi mới hơn trên máy chủ cho hộ",
    "conflict": "Đã ghi, nhưng có mục bị sửa khác nhau (cán bộ quản lý sẽ xem xét) cho hộ",
    "unchanged": "Máy chủ đã có đúng nội dung này cho hộ",
}


def _field(path: str) -> str:
    head = path.split(".", 1)[0]
    return FIELD_NAMES.get(head, head) + (f" ({path})" if "." in path else "")


def missing_files(row: OpenRosaSubmission) -> list[str]:
    return sorted(name for name, sha in row.files.items() if not sha)


def _missing(row: OpenRosaSubmission) -> str:
    missing = missing_files(row)
    return f" Còn chờ {len(missing)} ảnh: {', '.join(missing)}." if missing else ""


def written(record: dict[str, Any], result: dict[str, Any], row: OpenRosaSubmission) -> str:
    text = f"{RESULTS.get(result['result'], 'Đã nhận')} {record.get('household_head', '')}"
    if result.get("revision"):
        text += f" (phiên bản {result['revision']})"
    text += "."
    if result.get("conflicts"):
        text += " Mục bị sửa khác nhau: " + ", ".join(_field(c["field"]) for c in result["conflicts"]) + "."
    assignment = result.get("assignment") or {}
    if assignment.get("commune"):
        text += f" Xã theo GPS: {assignment['commune']}."
    flags = [FLAG_NAMES.get(f, f) for f in assignment.get("flags") or []]
    if assignment.get("needs_review"):
        text += " Chờ cán bộ quản lý xem xét vị trí: " + ", ".join(flags) + "."
    return text + _missing(row)


def resend(row: OpenRosaSubmission) -> str:
    if row.state == HELD:
        return held(row)
    return "Máy chủ đã nhận phiếu này trước đó; không có gì thay đổi." + _missing(row)


def held(row: OpenRosaSubmission) -> str:
    return ("Đã nhận bản sửa. Bản gốc chưa đến máy chủ: bản sửa được giữ lại và sẽ áp dụng ngay khi bản gốc "
            "đến." + _missing(row))


def rejected(errors: dict[str, list[str]]) -> str:
    parts = [f"{_field(path)}: {' '.join(messages)}" for path, messages in sorted(errors.items())]
    return "Phiếu bị từ chối, chưa ghi gì. " + "; ".join(parts)
