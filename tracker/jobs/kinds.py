"""The kinds of job: existing work, wrapped so that a worker can run it.

Each function leaves its database writes uncommitted: the runner commits them
with the job's end, so a worker killed half-way leaves nothing of the attempt.
Files (an export, a thumbnail) are written under a name of their own, so an
attempt run again overwrites rather than adds.
"""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.jobs.runner import Context, job_kind

EXPORT_ARGS = ("as_of", "known_at", "set_name", "plan", "lang", "commune", "status", "support_type")
PROGRESS_EVERY = 1000


def export_args(args: dict[str, Any], scope: frozenset[str] | None, mask_ids: bool, fmt: str) -> dict[str, Any]:
    """The arguments of an export job, as JSON: the report's date and knowledge pinned to the moment it was asked."""
    from sync.vocabulary import today as today_vn
    from tracker.dbtypes import utcnow

    pinned = {"as_of": args.get("as_of") or today_vn(), "known_at": args.get("known_at") or utcnow()}
    values = {**{k: args.get(k) for k in EXPORT_ARGS if args.get(k) is not None}, **pinned}
    return {"query": {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in values.items()},
            "scope": sorted(scope) if scope is not None else None, "mask_ids": mask_ids, "format": fmt}


def _report_args(query: dict[str, Any]) -> dict[str, Any]:
    args = dict(query)
    args["as_of"] = date.fromisoformat(args["as_of"])
    args["known_at"] = datetime.fromisoformat(args["known_at"])
    return args


def export_rows(args: dict[str, Any], scope: frozenset[str] | None) -> int:
    """How many households an export would list at most (the status filter aside)."""
    from tracker.exports.households import household_query
    from tracker.progress.service import context_from_args

    ctx = context_from_args(args, scope)
    filters = {k: args[k] for k in ("commune", "support_type") if args.get(k)}
    query = household_query(ctx, filters).order_by(None).execution_options(yield_per=None)
    return int(db.session.scalar(select(func.count()).select_from(query.subquery())) or 0)


@job_kind("export.households")
def export_households(ctx: Context) -> dict[str, Any]:
    """The households file, written to the store under ``exports/<job id>/``."""
    from tracker.exports.households import households_file
    from tracker.photos.service import storage

    args = _report_args(ctx.args["query"])
    scope = frozenset(ctx.args["scope"]) if ctx.args.get("scope") is not None else None
    total = export_rows(args, scope)
    ctx.progress(0, total)

    def counted(rows: Iterator[Any]) -> Iterator[Any]:
        for done, row in enumerate(rows, 1):
            if done % PROGRESS_EVERY == 0:
                ctx.progress(done, max(total, done))
            yield row

    chunks, mimetype, name = households_file(args, scope, bool(ctx.args.get("mask_ids")), ctx.args["format"],
                                             watch=counted)
    key = f"exports/{ctx.job_id}/{name}"
    with tempfile.TemporaryFile() as spool:
        for chunk in chunks:
            spool.write(chunk)
        size = spool.tell()
        spool.seek(0)
        storage().blobs.put(key, spool)
    return {"key": key, "name": name, "mimetype": mimetype, "bytes": size, "rows": total}


@job_kind("photos.thumbnail")
def photo_thumbnail(ctx: Context) -> dict[str, Any]:
    """Decode a stored photo and store its thumbnail (the same bytes however often it runs)."""
    from tracker.photos.blobs import BlobMissing
    from tracker.photos.service import make_thumbnail

    sha = ctx.args["sha256"]
    if not make_thumbnail(sha):
        raise BlobMissing(sha)
    return {"sha256": sha}


@job_kind("households.reassign")
def reassign(ctx: Context) -> dict[str, Any]:
    """Every household's assignment under a boundary set (after its import), through the ledger."""
    from tracker.boundaries.service import get_set
    from tracker.households.ledger import Actor, reassign_set

    boundary_set = get_set(ctx.args["set"])
    if boundary_set is None:
        raise LookupError(f"no boundary set named {ctx.args['set']!r}")
    done = reassign_set(boundary_set, Actor(device_id="boundaries-import"), progress=ctx.progress)
    return {"set": boundary_set.name, "revisions": done}


@job_kind("tallies.rebuild")
def rebuild_tallies(ctx: Context) -> dict[str, Any]:
    """The commune tallies counted afresh (``flask tallies rebuild``); the rows that had drifted, per set."""
    from tracker.boundaries.service import boundary_sets, get_set
    from tracker.progress import kept

    name = ctx.args.get("set")
    chosen = [get_set(name)] if name else boundary_sets()
    if any(s is None for s in chosen):
        raise LookupError(f"no boundary set named {name!r}")
    drifted: dict[str, int] = {}
    for done, boundary_set in enumerate(chosen, 1):
        assert boundary_set is not None
        drifted[boundary_set.name] = int(kept.rebuild(boundary_set) or 0)
        ctx.progress(done, len(chosen))
    return {"drifted": drifted}
