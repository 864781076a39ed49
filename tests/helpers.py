"""Small builders shared by the tests."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tracker.geo import sources


def real_file(name: str) -> Path:
    """A real boundary file, or skip the test with the reason."""
    path = sources.boundary_file(name)
    if path is None:
        pytest.skip(f"real boundary file {name} not found (BOUNDARIES_DIR)")
    return path


def square(x0: float, y0: float, size: float) -> list[list[list[float]]]:
    return [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]]


def feature(code: Any, name: str | None, rings: Any, kind: str = "Polygon", **props: Any) -> dict[str, Any]:
    properties = {"code": code, "name": name, **props}
    return {"type": "Feature", "properties": properties, "geometry": {"type": kind, "coordinates": rings}}


def write_collection(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), "utf-8")
    return path


def two_communes(path: Path) -> Path:
    """Two adjacent 0.1° squares in Son La's latitude band."""
    return write_collection(path, [
        feature("90001", "Xã Một", square(104.0, 21.0, 0.1), district="Huyện A", province="Tỉnh Thử"),
        feature("90002", "Xã Hai", square(104.1, 21.0, 0.1), district="Huyện A", province="Tỉnh Thử"),
    ])


def json_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The error of an API answer, after checking its status and the one JSON shape."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert "Traceback" not in response.get_data(as_text=True)
    error = response.get_json()["error"]
    if code:
        assert error["code"] == code
    return error


def recreate_pg_database(url: str) -> None:
    """Drop (closing its connections) and create the PostgreSQL database of ``url``."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
