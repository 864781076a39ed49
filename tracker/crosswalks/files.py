"""The crosswalk as a file: columns and header block."""
from __future__ import annotations

from tracker.boundaries.models import BoundarySet
from tracker.crosswalks.models import Crosswalk
from tracker.exports.writers import Column

COLUMNS = [
    Column("new_code", "Mã đơn vị mới", "New unit code", "code"),
    Column("new_name", "Đơn vị mới", "New unit"),
    Column("old_code", "Mã đơn vị cũ", "Old unit code", "code"),
    Column("old_name", "Đơn vị cũ", "Old unit"),
    Column("old_parent", "Huyện cũ", "Old district", "code"),
    Column("share", "Tỷ lệ diện tích", "Share of old unit's area", "percent"),
    Column("area_km2", "Diện tích (km²)", "Area (km²)", "float"),
    Column("households", "Số hộ", "Households", "int"),
    Column("source", "Nguồn", "Source"),
]


def header(row: Crosswalk, from_set: BoundarySet, to_set: BoundarySet, lang: str) -> list[tuple[str, str]]:
    vi = lang == "vi"
    source = {"geometry": ("Tính từ ranh giới", "Computed from the boundaries"),
              "official": ("Danh sách chính thức", "Official list")}[row.source][0 if vi else 1]
    return [
        ("Bảng chuyển đổi đơn vị hành chính" if vi else "Administrative unit crosswalk",
         f"{from_set.name} → {to_set.name}"),
        ("Phiên bản bộ ranh giới" if vi else "Boundary set versions", f"{row.from_version} → {row.to_version}"),
        ("Nguồn" if vi else "Source", f"{source} {row.source_name}".strip()),
        ("Bỏ qua mảnh nhỏ dưới" if vi else "Slivers ignored below", f"{row.tolerance:.0%}"),
        ("Số hộ khớp" if vi else "Households agreeing", f"{row.households_agreeing} / {row.households}"),
    ]
