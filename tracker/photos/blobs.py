"""Where bytes live: one small interface, a local folder behind it by default.

Keys are ``/``-separated names chosen by the photo layer (never by a client).
An object appears whole or not at all: a reader never sees half a write. The
S3-compatible backend (:mod:`tracker.photos.s3`) offers the same operations,
so everything above this module runs unchanged on either.

No Flask, no database.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol

KEY = re.compile(r"[0-9a-z][0-9a-z_.-]*(/[0-9a-z][0-9a-z_.-]*)*")


class BlobMissing(KeyError):
    """No object under that key."""


class StoreUnavailable(RuntimeError):
    """The store did not answer (down, overloaded, refusing): try again later."""


@dataclass(frozen=True)
class Entry:
    key: str
    size: int
    modified: datetime


class Blobs(Protocol):
    """The operations the photo layer needs from a store."""

    def put(self, key: str, source: IO[bytes]) -> None:
        """Store everything ``source`` holds (read from its current position) under ``key``."""

    def get(self, key: str) -> IO[bytes]:
        """A readable stream of the object; raises :class:`BlobMissing`."""

    def size(self, key: str) -> int | None:
        """The object's size, or None when there is none."""

    def list(self, prefix: str) -> list[Entry]:
        """Every object whose key starts with ``prefix`` (a folder-like prefix ending in ``/``)."""

    def delete(self, keys: Iterable[str]) -> None:
        """Remove these objects; absent ones are no error."""

    def local_path(self, key: str) -> Path | None:
        """A file to hand to the web server directly, when the backend has one."""


def checked(key: str) -> str:
    """Only plain lower-case names reach a backend (no traversal, no surprises)."""
    if not isinstance(key, str) or not KEY.fullmatch(key) or "/../" in f"/{key}/" or len(key) > 512:
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalBlobs:
    """A folder on this machine: ``root/<key>``. Writes go to a hidden temporary
    file beside the target, then ``os.replace`` (atomic on one filesystem)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / checked(key)

    def put(self, key: str, source: IO[bytes]) -> None:
        target = self._path(key)
        fd, tmp = _temporary_beside(target)
        try:
            with os.fdopen(fd, "wb") as handle:
                shutil.copyfileobj(source, handle, 256 * 1024)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> IO[bytes]:
        try:
            return open(self._path(key), "rb")  # noqa: SIM115 (the caller closes it)
        except (FileNotFoundError, NotADirectoryError):
            raise BlobMissing(key) from None

    def size(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            return None

    def list(self, prefix: str) -> list[Entry]:
        folder = self.root / checked(prefix.rstrip("/")) if prefix.strip("/") else self.root
        found = []
        for dirpath, _dirs, files in os.walk(folder):
            for name in files:
                if name.startswith("."):
                    continue
                path = Path(dirpath) / name
                try:
                    stat = path.stat()
                except FileNotFoundError:  # removed while we looked
                    continue
                found.append(Entry(path.relative_to(self.root).as_posix(), stat.st_size,
                                   datetime.fromtimestamp(stat.st_mtime, UTC)))
        return sorted(found, key=lambda e: e.key)

    def delete(self, keys: Iterable[str]) -> None:
        folders = set()
        for key in keys:
            path = self._path(key)
            path.unlink(missing_ok=True)
            folders.add(path.parent)
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            _remove_empty(folder, self.root)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)


def _temporary_beside(target: Path) -> tuple[int, str]:
    """A hidden temporary file in the target's folder (made again if a prune just removed it)."""
    for _ in range(3):
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            return tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
        except FileNotFoundError:
            continue
    raise FileNotFoundError(target.parent)


def _remove_empty(folder: Path, root: Path) -> None:
    """Remove ``folder`` and its parents up to ``root`` while they are empty."""
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:  # not empty (or already gone): stop here
            return
        folder = folder.parent
