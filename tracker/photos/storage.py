"""Where photo bytes live: a filesystem backend keyed by SHA-256.

Layout under the root (``PHOTO_DIR``)::

    ab/cd/abcd…ef           the photo, named by its hash
    thumbs/ab/abcd…ef.jpg   its thumbnail
    partial/abcd…ef.part    an upload in progress (resumable)

Finished files only ever appear by ``os.replace`` from a file in the same
tree, so a reader never sees half a photo. An upload in progress is guarded
by an exclusive ``flock`` on its partial file, which works across worker
processes on one host.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

CHUNK = 64 * 1024
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _checked(sha: str) -> str:
    """Only a lower-case hex SHA-256 ever becomes part of a path (no traversal)."""
    if not isinstance(sha, str) or not SHA256_HEX.fullmatch(sha):
        raise ValueError("a photo is named by the lower-case hex SHA-256 of its bytes")
    return sha


class UploadBusy(Exception):
    """Another request is writing this upload right now."""


class FileStorage:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, sha: str) -> Path:
        sha = _checked(sha)
        return self.root / sha[:2] / sha[2:4] / sha

    def thumbnail_path(self, sha: str) -> Path:
        sha = _checked(sha)
        return self.root / "thumbs" / sha[:2] / f"{sha}.jpg"

    def partial_path(self, sha: str) -> Path:
        sha = _checked(sha)
        return self.root / "partial" / f"{sha}.part"

    def exists(self, sha: str) -> bool:
        return self.path(sha).is_file()

    def partial_size(self, sha: str) -> int | None:
        try:
            return self.partial_path(sha).stat().st_size
        except FileNotFoundError:
            return None

    @contextmanager
    def open_partial(self, sha: str) -> Iterator[IO[bytes]]:
        """The partial file, opened for appending under an exclusive lock."""
        path = self.partial_path(sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UploadBusy(sha) from None
            try:
                yield handle
            finally:
                handle.flush()
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def hash_partial(self, sha: str) -> str:
        digest = hashlib.sha256()
        with open(self.partial_path(sha), "rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def finish(self, sha: str) -> Path:
        """Move a complete upload into place (atomic rename)."""
        target = self.path(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        source = self.partial_path(sha)
        with open(source, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(source, target)
        return target

    def discard_partial(self, sha: str) -> None:
        self.partial_path(sha).unlink(missing_ok=True)

    def write_thumbnail(self, sha: str, data: bytes) -> Path:
        target = self.thumbnail_path(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
        return target
