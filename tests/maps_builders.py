"""Two maps of one province: the real Sơn La sets (2024 and 2025), or the synthetic fallback.

Real files come from ``BOUNDARIES_DIR`` (never from the repository). Without
them, the synthetic province stands in: its communes are the old map and its
districts, each made one commune, the new map (a merger like July 2025's).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracker.boundaries.models import BoundarySet
from tracker.boundaries.service import get_set, import_boundary_set
from tracker.extensions import db
from tracker.geo import sources
from tracker.geo.synthetic import synthetic_province, write_geojson


@dataclass
class TwoMaps:
    old: BoundarySet
    new: BoundarySet
    real: bool


def load_two_maps(tmp_path: Path) -> TwoMaps:
    find = sources.boundary_file
    old_path, new_path = find(sources.SON_LA_2024_COMMUNES), find(sources.SON_LA_2025_COMMUNES)
    if old_path and new_path:
        import_boundary_set("2024", old_path, find(sources.SON_LA_2024_DISTRICTS), find(sources.SON_LA_2024_PROVINCE))
        import_boundary_set("2025", new_path, None, find(sources.SON_LA_2025_PROVINCE))
        real = True
    else:
        synthetic = synthetic_province()
        old_file = write_geojson(synthetic.communes, tmp_path / "old.geojson")
        merged = [_as_commune(f) for f in synthetic.districts]
        new_file = write_geojson(merged, tmp_path / "new.geojson")
        import_boundary_set("2024", old_file, synthetic=True)
        import_boundary_set("2025", new_file, synthetic=True)
        real = False
    db.session.commit()
    return TwoMaps(get_set("2024"), get_set("2025"), real)  # type: ignore[arg-type]


def _as_commune(district: dict[str, Any]) -> dict[str, Any]:
    props = dict(district["properties"])
    props.update(code=f"{props['code']}00", type="Xã")
    props.pop("district", None)
    return {**district, "properties": props}
