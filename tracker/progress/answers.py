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

from tracker import compression, jsoncodec
from tracker.progress import maps, stored_answers
from tracker.progress.context import ReportContext
from tracker.progress.finish import finished_report
from tracker.progress.service import progress_report, remember, report_key
from tracker.progress.tallies import collector_paused


def collection_body(collection: dict[str, Any], volatile: tuple[str, ...] = (), deflate: bool = False) -> Body:
    """The collection as UTF-8 JSON, with an ETag over everything but ``volatile`` members.

    A defaulted ``known_at`` ("now") is volatile: the same figures known a
    second later are the same representation. The features are encoded
    ``FEATURES_AT_ONCE`` at a time; with ``deflate`` each piece is gzipped
    (and every piece hashed) on the other cores while the next is encoded.
    """
    features = collection["features"]
    meta = {k: v for k, v in collection.items() if k != "features"}
    stable = json.dumps({k: v for k, v in meta.items() if k not in volatile}, cls=maps.Encoder,
                        sort_keys=True).encode("utf-8")
    head = json.dumps(meta, cls=maps.Encoder, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    parts: list[bytes | memoryview] = [head[:-1] + b',"features":[']
    deflating = compression.Deflating() if deflate else None
    if deflating is not None:
        deflating.add(parts[0])
    digests = []
    for start in range(0, len(features), FEATURES_AT_ONCE):
        encoded = orjson.dumps(features[start:start + FEATURES_AT_ONCE])
        digests.append(compression.submit(_sha256, encoded))
        piece = (b"," if start else b"", memoryview(encoded)[1:-1])  # the pieces' brackets left out
        parts.extend(piece)
        if deflating is not None:
            deflating.add(*piece)
    parts.append(b"]}")
    etag = hashlib.sha256(b"".join([stable, b"\0", *(digest.result() for digest in digests)])).hexdigest()[:32]
    if deflating is None:
        return Body(parts, etag)
    deflating.add(parts[-1])
    return Body(parts, etag, deflating.finish())


FEATURES_AT_ONCE = 1000  # a national map is 12 pieces of about 1 MB


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


class Body:
    """A GeoJSON answer ready to send: the bytes, the ETag, the gzipped bytes once asked for.

    Made from either form (an answer stored gzipped is unpacked only for a
    client that does not take gzip); the bytes may come in parts, joined
    only for a client that asks for them.
    """

    def __init__(self, parts: list[bytes | memoryview] | None, etag: str, gzipped_body: bytes | None = None) -> None:
        self._parts, self.etag, self._gzipped = parts, etag, gzipped_body
        self._body: bytes | None = None

    @property
    def body(self) -> bytes:
        if self._body is None:
            if self._parts is not None:
                self._body = b"".join(self._parts)
            else:
                assert self._gzipped is not None
                self._body = gzip.decompress(self._gzipped)
        return self._body

    def size(self) -> int:
        """The length of the body (a gzip member ends with it, modulo 4 GiB)."""
        if self._parts is not None:
            return sum(len(part) for part in self._parts)
        if self._body is None and self._gzipped is not None:
            return int.from_bytes(self._gzipped[-4:], "little")
        return len(self.body)

    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = compression.gzipped(self.body)
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
            answer = collection_body(maps.communes_layer(ctx, zoom, key), ("known_at",) if now else (), deflate=True)
        if generation is not None:
            stored_answers.keep(ctx, name, generation, answer.gzipped(), answer.etag)
        return answer

    asked = "now" if now else ctx.known_at.isoformat()
    return remember("map", None if key is None else (key, zoom, asked), build, entries=4)
