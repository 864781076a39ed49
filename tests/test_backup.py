"""``flask backup create`` / ``flask backup restore``: the database (SQLite online
backup or pg_dump) and the photos; a restored copy gives identical figures."""
from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, func, select

from tests.progress_builders import at, bearer, load_province, plan, record, revise, store
from tests.sync_support import image_bytes
from tracker.app import create_app
from tracker.backup import service
from tracker.extensions import db
from tracker.households.models import HouseholdRevision, Photo
from tracker.photos.blobs import LocalBlobs

KNOWN = "known_at=2025-06-01T00:00:00%2B07:00"
REPORTS = [
    f"/api/v1/progress?level=commune&as_of=2025-04-16&{KNOWN}",
    f"/api/v1/progress?level=district&as_of=2025-05-19&{KNOWN}",
    "/api/v1/progress?level=province&as_of=2025-04-16&known_at=2025-04-16T17:00:00%2B07:00",
    f"/api/v1/export/progress.csv?level=commune&as_of=2025-04-30&{KNOWN}",
]


def _populate(app: Flask, client: Any, tmp_path: Path) -> tuple[dict[str, str], list[str]]:
    load_province(tmp_path)
    plan({"90001": (4, 1), "90002": (2, 0), "90003": (3, 1), "90004": (1, 0)}, effective=at("2025-01-01 08:00").date())
    plan({"90001": (5, 1), "90002": (2, 0), "90003": (3, 1), "90004": (2, 0)}, effective=at("2025-04-01 08:00").date())
    records = [record(c, status=s, support_type=t) for c in ("90001", "90002", "90003", "90004")
               for s in ("started", "completed") for t in ("new_build", "repair")]
    store(records[:10], received_at=at("2025-04-12 09:00"))
    store(records[10:], received_at=at("2025-04-20 09:00"))
    revise(records[0]["id"], at("2025-04-25 10:00"), status="completed",
           status_dates={**records[0]["status_dates"], "completed": "2025-04-24"})
    auth = bearer("manager")
    shas = []
    for _ in range(3):
        data = image_bytes()
        sha = hashlib.sha256(data).hexdigest()
        answer = client.put(f"/api/v1/photos/{sha}", data=data, headers={**auth, "Content-Type": "image/jpeg"})
        assert answer.status_code == 201
        shas.append(sha)
    return auth, shas


def _figures(app: Flask, auth: dict[str, str]) -> list[Any]:
    """The reports, from a fresh app (no per-process cache carried over)."""
    fresh = create_app({k: app.config[k] for k in ("TESTING", "ENV_NAME", "SQLALCHEMY_DATABASE_URI", "INSTANCE_DIR",
                                                    "PHOTO_DIR")})
    with fresh.app_context():
        client = fresh.test_client()
        out = []
        for url in REPORTS:
            answer = client.get(url, headers=auth)
            assert answer.status_code == 200, (url, answer.get_data(as_text=True))
            out.append(answer.get_json() if answer.is_json else answer.get_data())
        db.session.remove()
        db.engine.dispose()
    return out


def _photo_bytes(photo_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(photo_dir)): p.read_bytes() for p in sorted(photo_dir.rglob("*")) if p.is_file()}


def test_backup_and_restore_give_identical_figures_and_photos(app: Flask, client: Any, runner: Any,
                                                              tmp_path: Path) -> None:
    auth, shas = _populate(app, client, tmp_path)
    before = _figures(app, auth)
    photo_dir = Path(app.config["PHOTO_DIR"])
    photos_before = _photo_bytes(photo_dir)
    counts_before = service.table_counts()
    archive = tmp_path / "backups" / "tracker.tar.gz"

    result = runner.invoke(args=["backup", "create", str(archive)])
    assert result.exit_code == 0, result.output
    assert "3 photos" in result.output
    manifest = service.read_manifest(archive)
    assert manifest.tables == counts_before and manifest.photos == 3 and manifest.migration
    with tarfile.open(archive) as opened:
        names = opened.getnames()
    assert ("database.pgdump" in names) == app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    assert all(f"photos/{sha[:2]}/{sha[2:4]}/{sha}" in names for sha in shas)

    # Disaster: households gone, one photo lost, a stray file appears.
    db.session.execute(delete(HouseholdRevision))
    db.session.commit()
    (photo_dir / shas[0][:2] / shas[0][2:4] / shas[0]).unlink()
    (photo_dir / "stray").write_bytes(b"x")
    assert _figures(app, auth) != before

    refused = runner.invoke(args=["backup", "restore", str(archive)], input="n\n")
    assert refused.exit_code != 0 and db.session.scalar(select(func.count()).select_from(HouseholdRevision)) == 0
    result = runner.invoke(args=["backup", "restore", str(archive), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.remove()

    assert service.table_counts() == counts_before
    after = _figures(app, auth)
    assert after[:3] == before[:3]
    assert _csv_without_stamp(after[3]) == _csv_without_stamp(before[3])
    assert _photo_bytes(photo_dir) == photos_before
    assert {p.sha256 for p in db.session.scalars(select(Photo))} == set(shas)
    served = client.get(f"/api/v1/photos/{shas[0]}", headers=auth)
    assert served.status_code == 200 and hashlib.sha256(served.data).hexdigest() == shas[0]


def test_restore_refuses_unsafe_or_foreign_archives(app: Flask, runner: Any, tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar.gz"
    manifest = {"format": service.FORMAT, "database": make_kind(app), "migration": None, "created_at": "",
                "tables": {}, "photos": 0, "files": []}
    with tarfile.open(evil, "w:gz") as archive:
        for name, payload in (("manifest.json", json.dumps(manifest).encode()), ("../escape", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    result = runner.invoke(args=["backup", "restore", str(evil), "--yes"])
    assert result.exit_code != 0 and "unsafe" in result.output
    assert not (tmp_path.parent / "escape").exists()

    other = tmp_path / "other.tar.gz"
    manifest["database"] = "postgresql" if make_kind(app) == "sqlite" else "sqlite"
    with tarfile.open(other, "w:gz") as archive:
        payload = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    result = runner.invoke(args=["backup", "restore", str(other), "--yes"])
    assert result.exit_code != 0 and "this backup is of a" in result.output

    not_a_backup = tmp_path / "x.tar.gz"
    not_a_backup.write_bytes(b"not an archive")
    assert runner.invoke(args=["backup", "restore", str(not_a_backup), "--yes"]).exit_code != 0


def make_kind(app: Flask) -> str:
    return "postgresql" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else "sqlite"


@pytest.mark.parametrize("url", ["sqlite://", "mysql://u@h/db"])
def test_backups_need_a_file_or_server_database(url: str, tmp_path: Path) -> None:
    with pytest.raises(service.BackupError):
        service.create(tmp_path / "b.tar.gz", url, LocalBlobs(tmp_path))


def _csv_without_stamp(body: bytes) -> list[str]:
    """The file's lines but the moment it was written ("Xuất lúc")."""
    lines = body.decode("utf-8-sig").splitlines()
    assert any(line.startswith("Xuất lúc,") for line in lines)
    return [line for line in lines if not line.startswith("Xuất lúc,")]
