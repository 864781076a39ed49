"""``gzipped`` and ``Deflating``: a body deflated in pieces at once is still one gzip member of exactly the body."""
from __future__ import annotations

import gzip
import random
import zlib

import pytest

from tracker.compression import PIECES_FROM, Deflating, gzipped


def _body(size: int) -> bytes:
    """JSON-like text that compresses as a map answer does, with long repeats across the pieces' cuts."""
    rng = random.Random(size)
    rows = [f'{{"code":"{rng.randrange(10**5):05d}","planned":{rng.randrange(40)},"at_risk":false}}'.encode()
            for _ in range(500)]
    out = bytearray(b'{"features":[')
    while len(out) < size:
        out += rng.choice(rows) + b","
    return bytes(out[:size])


@pytest.mark.parametrize(("size", "pieces"), [(0, 3), (10, 3), (2 * 3 + 1, 3), (300_001, 2), (300_001, 4),
                                                (PIECES_FROM + 17, None)])
def test_the_pieces_make_one_gzip_member_of_the_whole_body(size: int, pieces: int | None) -> None:
    body = _body(size)
    packed = gzipped(body, pieces)
    reader = zlib.decompressobj(wbits=31)  # one member: it ends where the bytes end, nothing after
    assert reader.decompress(packed) == body and reader.eof and reader.unused_data == b""
    assert gzip.decompress(packed) == body


def test_pieces_cost_next_to_nothing_in_size() -> None:
    """Each piece starts with no history: a few kilobytes more, on megabytes (0.06 % on a national map)."""
    body = _body(PIECES_FROM)
    assert len(gzipped(body, 2)) <= 1.01 * len(gzipped(body, 1)) < len(body) / 5


@pytest.mark.parametrize("sizes", [[], [0], [0, 0, 5], [1], [300_001, 7, 0, 120_000], [PIECES_FROM // 3] * 4])
def test_pieces_added_one_by_one_make_one_gzip_member(sizes: list[int]) -> None:
    """Pieces of any size (none, empty, views into larger bytes) deflated as added, in order."""
    pieces = [memoryview(b"[" + _body(size) + b"]")[1:-1] for size in sizes]
    deflating = Deflating()
    for i, piece in enumerate(pieces):
        deflating.add(b"," if i else b"", piece)
    packed = deflating.finish()
    body = b",".join(bytes(piece) for piece in pieces)
    reader = zlib.decompressobj(wbits=31)
    assert reader.decompress(packed) == body and reader.eof and reader.unused_data == b""
    assert gzip.decompress(packed) == body
    assert len(packed) <= 1.01 * len(gzipped(body, 1)) + 64 * len(sizes) + 32
