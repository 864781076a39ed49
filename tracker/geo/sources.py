"""Where real administrative boundaries are read from.

The real files (see ``SOURCES.md`` beside them) may not be redistributed, so
the project never ships them: it reads them from ``BOUNDARIES_DIR``, which
defaults to ``../shared/data`` next to the checkout when that folder exists.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = PROJECT_ROOT.parent / "shared" / "data"

SON_LA_2024_COMMUNES = "son-la-communes-2024.geojson"
SON_LA_2024_DISTRICTS = "son-la-districts-2024.geojson"
SON_LA_2024_PROVINCE = "son-la-province-2024.geojson"
SON_LA_2025_COMMUNES = "son-la-communes-2025.geojson"
SON_LA_2025_PROVINCE = "son-la-province-2025.geojson"
NATIONAL_2024_COMMUNES = "vietnam-communes-2024.geojson"


def boundaries_dir(env: dict[str, str] | None = None) -> Path | None:
    """The folder holding real boundary files, or None when there is none."""
    env = os.environ if env is None else env
    configured = env.get("BOUNDARIES_DIR")
    folder = Path(configured) if configured else DEFAULT_DIR
    return folder if folder.is_dir() else None


def boundary_file(name: str, env: dict[str, str] | None = None) -> Path | None:
    """The path of one real boundary file, or None when it is not available."""
    folder = boundaries_dir(env)
    if folder is None:
        return None
    path = folder / name
    return path if path.is_file() else None


def read_features(path: Path) -> list[dict[str, Any]]:
    """The features of a GeoJSON FeatureCollection file, as plain dicts."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    return list(data.get("features", []))
