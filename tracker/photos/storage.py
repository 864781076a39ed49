"""Photo bytes in a store (:mod:`tracker.photos.blobs`): photos, thumbnails, uploads in progress.

Keys::

    ab/cd/abcd…ef                        the photo, named by its hash
    thumbs/ab/abcd…ef.jpg                its thumbnail
    partial/<user>/<sha>/length-<N>      an upload in progress: the length it declared
    partial/<user>/<sha>/<offset>        … and each piece received, named by where it starts

An upload in progress belongs to the account that sends it: another account
sending the same photo has an upload of its own, and learns nothing of this
one. Pieces are whole objects written once, so no lock is needed and nothing
is lost when a server dies mid-request: what was stored before is still
there, and the hash of the assembled bytes is checked at the end anyway.
Any application server sharing the store can resume any upload.
"""
from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

from tracker.photos.blobs import BlobMissing, Blobs, Entry

CHUNK = 64 * 1024
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
PARTIAL = "partial/"
LENGTH_PREFIX = "length-"


def _checked(sha: str) -> str:
    """Only a lower-case hex SHA-256 ever becomes part of a key (no traversal)."""
    if not isinstance(sha, str) or not SHA256_HEX.fullmatch(sha):
        raise ValueError("a photo is named by the lower-case hex SHA-256 of its bytes")
    return sha


def photo_key(sha: str) -> str:
    sha = _checked(sha)
    return f"{sha[:2]}/{sha[2:4]}/{sha}"


def thumbnail_key(sha: str) -> str:
    sha = _checked(sha)
    return f"thumbs/{sha[:2]}/{sha}.jpg"


def upload_prefix(owner: int, sha: str) -> str:
    return f"{PARTIAL}{int(owner)}/{_checked(sha)}/"


@dataclass
class Upload:
    """What the store holds of one account's upload of one photo."""

    owner: int
    sha: str
    length: int | None = None
    held: int = 0
    pieces: list[Entry] = field(default_factory=list)  # the contiguous run from byte 0
    entries: list[Entry] = field(default_factory=list)  # every object, markers and stale pieces too

    @property
    def newest(self) -> datetime | None:
        return max((e.modified for e in self.entries), default=None)

    @property
    def stored_bytes(self) -> int:
        return sum(e.size for e in self.entries)


def _upload(owner: int, sha: str, entries: list[Entry]) -> Upload:
    upload = Upload(owner, sha, entries=entries)
    pieces = []
    for entry in entries:
        name = entry.key.rsplit("/", 1)[1]
        if name.startswith(LENGTH_PREFIX) and name[len(LENGTH_PREFIX):].isdecimal():
            upload.length = int(name[len(LENGTH_PREFIX):])
        elif name.isdecimal():
            pieces.append((int(name), entry))
    for offset, entry in sorted(pieces, key=lambda p: p[0]):
        if offset == upload.held and entry.size > 0:
            upload.pieces.append(entry)
            upload.held += entry.size
    return upload


class PhotoStorage:
    def __init__(self, blobs: Blobs) -> None:
        self.blobs = blobs

    # --- finished photos ------------------------------------------------------------------

    def exists(self, sha: str) -> bool:
        return self.blobs.size(photo_key(sha)) is not None

    def open(self, sha: str) -> IO[bytes]:
        return self.blobs.get(photo_key(sha))

    def open_thumbnail(self, sha: str) -> IO[bytes]:
        return self.blobs.get(thumbnail_key(sha))

    def read(self, sha: str) -> bytes:
        with self.open(sha) as handle:
            return handle.read()

    def local_path(self, sha: str) -> Path | None:
        return self.blobs.local_path(photo_key(sha))

    def local_thumbnail_path(self, sha: str) -> Path | None:
        return self.blobs.local_path(thumbnail_key(sha))

    def put_photo(self, sha: str, source: IO[bytes]) -> None:
        self.blobs.put(photo_key(sha), source)

    def put_thumbnail(self, sha: str, data: bytes) -> None:
        self.blobs.put(thumbnail_key(sha), io.BytesIO(data))

    # --- uploads in progress ----------------------------------------------------------------

    def upload(self, owner: int, sha: str) -> Upload:
        return _upload(owner, sha, self.blobs.list(upload_prefix(owner, sha)))

    def save_piece(self, upload: Upload, offset: int, source: IO[bytes]) -> None:
        self.blobs.put(f"{upload_prefix(upload.owner, upload.sha)}{offset:015d}", source)

    def declare_length(self, upload: Upload, length: int) -> None:
        """Record the upload's full length (replacing any earlier declaration)."""
        prefix = upload_prefix(upload.owner, upload.sha)
        self.blobs.put(f"{prefix}{LENGTH_PREFIX}{length}", io.BytesIO(b""))
        self.blobs.delete(e.key for e in upload.entries
                          if e.key.rsplit("/", 1)[1].startswith(LENGTH_PREFIX)
                          and e.key != f"{prefix}{LENGTH_PREFIX}{length}")
        upload.length = length

    def drop_pieces_after(self, upload: Upload, offset: int) -> None:
        """Remove pieces starting after ``offset`` (left by an earlier attempt that a PUT restarts)."""
        self.blobs.delete(e.key for e in upload.entries
                          if e.key.rsplit("/", 1)[1].isdecimal() and int(e.key.rsplit("/", 1)[1]) > offset)

    def copy_pieces(self, upload: Upload, target: IO[bytes]) -> None:
        """Write the held bytes, in order, to ``target``."""
        for entry in upload.pieces:
            try:
                with self.blobs.get(entry.key) as piece:
                    while chunk := piece.read(CHUNK):
                        target.write(chunk)
            except BlobMissing:
                raise BlobMissing(f"piece {entry.key} vanished (pruned or restarted meanwhile)") from None

    def discard(self, uploads: Iterable[Upload]) -> None:
        self.blobs.delete(e.key for upload in uploads for e in upload.entries)

    def open_uploads(self, owner: int) -> set[str]:
        """The photos this account has uploads in progress for."""
        return {e.key.split("/")[2] for e in self.blobs.list(f"{PARTIAL}{int(owner)}/")}

    def all_uploads(self) -> list[Upload]:
        grouped: dict[tuple[int, str], list[Entry]] = defaultdict(list)
        for entry in self.blobs.list(PARTIAL):
            parts = entry.key.split("/")
            if len(parts) == 4 and parts[1].isdecimal() and SHA256_HEX.fullmatch(parts[2]):
                grouped[(int(parts[1]), parts[2])].append(entry)
        return [_upload(owner, sha, entries) for (owner, sha), entries in grouped.items()]
