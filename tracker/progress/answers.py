"""Whole answers of the progress API, as bytes: the JSON report and the communes map.

Built here rather than in the views so that a worker can give itself the
day's answers before it takes requests (:mod:`tracker.progress.warm`): the
same code, the same keys in the worker's memory, the same stored answer.
"""
from __future__ import annotations

import gzip
import hashlib
import json
from typing import Any

import orjson

from tracker import jsoncodec
from tracker.compression import gzipped
from tracker.progress import maps, stored_answers
from tracker.progress.context import ReportContext
from tracker.progress.finish import finished_report
from tracker.progress.service import progress_report, remember, report_key
from tracker.progress.tallies import collector_paused


def collection_body(collection: dict[str, Any], volatile: tuple[str, ...] = ()) -> tuple[bytes, str]:
    """The collection as UTF-8 JSON, and an ETag over everything but ``volatile`` members.

    A defaulted ``known_at`` ("now") is volatile: the same figures known a
    second later are the same representation.
    """
    features = orjson.dumps(collection["features"])
    meta = {k: v for k, v in collection.items() if k != "features"}
    stable = json.dumps({k: v for k, v in meta.items() if k not in volatile}, cls=maps.Encoder,
                        sort_keys=True).encode("utf-8")
    digest = hashlib.sha256(stable + b"\0")
    digest.update(features)  # a national map's features are 11 MB: hashed and joined without more copies
    head = json.dumps(meta, cls=maps.Encoder, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b"".join((head[:-1], b',"features":', features, b"}")), digest.hexdigest()[:32]


class Body:
    """A GeoJSON answer ready to send: the bytes, the ETag, the gzipped bytes once asked for.

    Made from either form (an answer stored gzipped is unpacked only for a
    client that does not take gzip).
    """

    def __init__(self, body: bytes | None, etag: str, gzipped_body: bytes | None = None) -> None:
        self._body, self.etag, self._gzipped = body, etag, gzipped_body

    @property
    def body(self) -> bytes:
        if self._body is None:
            assert self._gzipped is not None
            self._body = gzip.decompress(self._gzipped)
        return self._body

    def size(self) -> int:
        """The length of the body (a gzip member ends with it, modulo 4 GiB)."""
        if self._body is None and self._gzipped is not None:
            return int.from_bytes(self._gzipped[-4:], "little")
        return len(self.body)

    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzipped(self._body or b"")
        return self._gzipped


def progress_json(ctx: ReportContext, level: str, now: bool) -> bytes:
    """The report at ``level`` as ``ProgressReportSchema`` JSON (``now``: ``known_at`` was not asked for)."""
    key = report_key(ctx)

    def encode() -> bytes:
        # The service builds exactly ProgressReportSchema's shape (a test
        # holds them equal); encoding directly keeps a national report fast.
        with collector_paused():
            return jsoncodec.dumps_bytes(finished_report(progress_report(ctx, level, key)).as_dict())

    asked = "now" if now else ctx.known_at.isoformat()
    return remember("json", None if key is None else key + (level, asked), encode, entries=8)


def communes_map(ctx: ReportContext, zoom: int, now: bool) -> Body:
    """The communes layer at ``zoom`` with its ETag; with ``now``, stored for every worker when it may be."""
    key = report_key(ctx)
    name = f"map:{zoom}"

    def build() -> Body:
        stored = stored_answers.read(ctx, name) if now else None  # a past known_at is rare: never stored
        if stored is not None:
            return Body(None, stored[1], stored[0])
        generation = stored_answers.since(ctx) if now else None
        with collector_paused():  # the layer's 11,163 features are gone before the collector runs again
            answer = Body(*collection_body(maps.communes_layer(ctx, zoom, key), ("known_at",) if now else ()))
        if generation is not None:
            stored_answers.keep(ctx, name, generation, answer.gzipped(), answer.etag)
        return answer

    asked = "now" if now else ctx.known_at.isoformat()
    return remember("map", None if key is None else (key, zoom, asked), build, entries=4)
