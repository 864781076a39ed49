"""Back up and restore the database and the photos.

A backup is one ``.tar.gz`` archive:

* ``manifest.json``: format, database kind, migration revision, row counts
  per table, photo count, when it was made;
* ``database.sqlite`` (SQLite's online backup API: a consistent copy while
  the app keeps running) or ``database.pgdump`` (``pg_dump --format=custom``,
  one consistent snapshot);
* ``photos/``: every stored photo and thumbnail, read from the configured
  store (local folder or S3-compatible; uploads still in progress are left
  out: the phones resume them).

Restoring replaces the database's content (``pg_restore --clean`` or the
backup API in the other direction) and puts the photos back into the configured store,
checking each against its SHA-256. A backup restores into the same kind of database only.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from tracker.dbtypes import utcnow
from tracker.extensions import db
from tracker.photos.blobs import Blobs, Entry
from tracker.photos.storage import PARTIAL, SHA256_HEX

FORMAT = "tracker-backup/1"
SQLITE_NAME = "database.sqlite"
PG_NAME = "database.pgdump"


class BackupError(RuntimeError):
    """A backup that cannot be made or restored."""


@dataclass
class Manifest:
    format: str
    database: str
    migration: str | None
    created_at: str
    tables: dict[str, int]
    photos: int
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {backend}")
    return backend


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string (no driver suffix) and the environment carrying the password."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def table_counts() -> dict[str, int]:
    return {table.name: int(db.session.scalar(select(func.count()).select_from(table)) or 0)
            for table in db.metadata.sorted_tables}


def _migration() -> str | None:
    try:
        return db.session.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception:  # no migrations table: a database made without Alembic
        db.session.rollback()
        return None


def _photo_entries(blobs: Blobs) -> list[Entry]:
    """Finished photos and thumbnails in the store (never uploads in progress, nor the files of export jobs)."""
    return [e for e in blobs.list("") if not e.key.startswith((PARTIAL, "exports/"))]


def create(target: Path, url: str, blobs: Blobs) -> Manifest:
    """Write a backup archive to ``target`` (atomically: a temporary file renamed at the end)."""
    kind = _kind(url)
    if kind == "sqlite":
        _sqlite_path(url)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tracker-backup-") as work_dir:
        work = Path(work_dir)
        counts = table_counts()
        migration = _migration()
        db.session.rollback()
        if kind == "sqlite":
            dump = work / SQLITE_NAME
            source = sqlite3.connect(_sqlite_path(url))
            copy = sqlite3.connect(dump)
            try:
                source.backup(copy)
            finally:
                copy.close()
                source.close()
        else:
            dump = work / PG_NAME
            dsn, env = _libpq(url)
            done = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                                   f"--file={dump}", f"--dbname={dsn}"], env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
        files = _photo_entries(blobs)
        manifest = Manifest(FORMAT, kind, migration, utcnow().isoformat(), counts,
                            sum(1 for f in files if not f.key.startswith("thumbs/")), [f.key for f in files])
        partial = target.with_name(f".{target.name}.partial")
        with tarfile.open(partial, "w:gz") as archive:
            payload = json.dumps(manifest.as_dict(), indent=1, ensure_ascii=False).encode("utf-8")
            info = tarfile.TarInfo("manifest.json")
            info.size = len(payload)
            info.mtime = int(utcnow().timestamp())
            archive.addfile(info, io.BytesIO(payload))
            archive.add(dump, arcname=dump.name)
            for entry in files:
                member = tarfile.TarInfo(f"photos/{entry.key}")
                member.size, member.mtime = entry.size, int(entry.modified.timestamp())
                with blobs.get(entry.key) as stream:
                    archive.addfile(member, stream)
        os.replace(partial, target)
    return manifest


def read_manifest(source: Path) -> Manifest:
    with tarfile.open(source, "r:gz") as archive:
        member = archive.extractfile("manifest.json")
        if member is None:
            raise BackupError(f"{source} is not a tracker backup (no manifest)")
        data = json.loads(member.read().decode("utf-8"))
    if data.get("format") != FORMAT:
        raise BackupError(f"{source} is not a tracker backup of format {FORMAT}")
    return Manifest(**data)


def _safe_member(member: tarfile.TarInfo) -> bool:
    """Only regular files with plain relative names (no ``..``, no links, no absolute paths)."""
    parts = Path(member.name).parts
    return member.isfile() and bool(parts) and not Path(member.name).is_absolute() and ".." not in parts


def restore(source: Path, url: str, blobs: Blobs) -> Manifest:
    """Replace the database's content and the photos with the backup's."""
    manifest = read_manifest(source)
    kind = _kind(url)
    if manifest.database != kind:
        raise BackupError(f"this backup is of a {manifest.database} database; the target is {kind}")
    with tempfile.TemporaryDirectory(prefix="tracker-restore-") as work_dir:
        work = Path(work_dir)
        with tarfile.open(source, "r:gz") as archive:
            for member in archive.getmembers():
                if not _safe_member(member):
                    raise BackupError(f"unsafe entry in the archive: {member.name!r}")
            archive.extractall(work, filter="data")
        db.session.remove()
        db.engine.dispose()
        if kind == "sqlite":
            copy = sqlite3.connect(work / SQLITE_NAME)
            target = sqlite3.connect(_sqlite_path(url))
            try:
                copy.backup(target)
            finally:
                target.close()
                copy.close()
        else:
            dsn, env = _libpq(url)
            done = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
                                   "--single-transaction", "--exit-on-error", f"--dbname={dsn}",
                                   str(work / PG_NAME)], env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
        _restore_photos(work / "photos", blobs, manifest)
    db.engine.dispose()
    counts = table_counts()
    if counts != manifest.tables:
        raise BackupError(f"restored row counts differ from the backup's: {counts} != {manifest.tables}")
    return manifest


def _restore_photos(unpacked: Path, blobs: Blobs, manifest: Manifest) -> None:
    """Put every photo back (checked against its name), then drop photos the backup did not have."""
    wanted = set(manifest.files)
    for relative in manifest.files:
        source = unpacked / relative
        parts = Path(relative).parts
        if parts[0] != "thumbs" and SHA256_HEX.fullmatch(parts[-1]):
            if hashlib.sha256(source.read_bytes()).hexdigest() != parts[-1]:
                raise BackupError(f"photo {parts[-1]} in the backup does not match its hash")
        with open(source, "rb") as handle:
            blobs.put(relative, handle)
    blobs.delete(e.key for e in _photo_entries(blobs) if e.key not in wanted)
