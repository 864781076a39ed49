"""Whole answers built from a set's figures on a day, stored so that every worker sends them at once.

A national communes map (11,163 communes with their figures, about 11 MB
of JSON, 1 MB gzipped) took a fresh worker most of a second to build,
after every restart and in every worker. It is a function of the set
version, the plan revision, the day and the kept tallies, so the first
worker to build it stores it gzipped, with its ETag
(:func:`keep`), and the others send that (:func:`read`). It goes with the
day's stored sums (:mod:`tracker.progress.snapshots`): deleted when a
change reaching that day is written, and never stored from figures taken
before a write. Only answers for the whole set with ``known_at`` = now,
where the kept tallies cover the report, are stored.
"""
from __future__ import annotations

import hashlib
from functools import partial

from sqlalchemy import select

from tracker.extensions import db
from tracker.http import after_response
from tracker.progress import kept, snapshots
from tracker.progress.context import ReportContext
from tracker.progress.models import StoredAnswer


def _key(ctx: ReportContext) -> str:
    """Everything besides the day and the tallies that the answer is built from."""
    revision = ctx.revision
    parts = (ctx.boundary_set.id, ctx.boundary_set.version, ctx.boundary_set.checksum,
             revision.id if revision else None, revision.change_seq if revision else None,
             revision.created_at.isoformat() if revision else None)
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


def storable(ctx: ReportContext) -> bool:
    return ctx.scope is None and kept.covers(ctx)


def read(ctx: ReportContext, name: str) -> tuple[bytes, str] | None:
    """``(gzipped body, ETag)`` of the stored answer ``name`` for ``ctx``, or None."""
    if not storable(ctx):
        return None
    row = db.session.execute(select(StoredAnswer.key, StoredAnswer.body, StoredAnswer.etag).where(
        StoredAnswer.boundary_set_id == ctx.boundary_set.id, StoredAnswer.day == ctx.as_of,
        StoredAnswer.name == name)).first()
    return None if row is None or row.key != _key(ctx) else (row.body, row.etag)


def since(ctx: ReportContext) -> int | None:
    """The set's tally generation before an answer is built (None: the answer is not to be stored)."""
    return snapshots.generation(ctx.boundary_set.id) if storable(ctx) else None


def keep(ctx: ReportContext, name: str, generation: int, gzipped: bytes, etag: str) -> None:
    """Store the answer if no write to the set's tallies fell since ``generation`` (in a request: once it is sent)."""
    after_response(partial(snapshots.store, StoredAnswer, ctx.boundary_set.id, generation,
                           {"day": ctx.as_of, "name": name}, {"key": _key(ctx), "etag": etag, "body": gzipped}))
