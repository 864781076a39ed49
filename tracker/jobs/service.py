"""Looking up a job for a caller, and what is shown of it."""
from __future__ import annotations

import logging
import re
import time
from datetime import timedelta
from functools import partial
from typing import IO, Any

from flask import current_app, url_for
from sqlalchemy import select

from tracker.accounts.auth import Principal
from tracker.extensions import db
from tracker.http import after_response
from tracker.jobs.models import Job

log = logging.getLogger(__name__)

JOB_ID = re.compile(r"[0-9a-f]{32}")
PRUNE_EVERY_SECONDS = 3600.0  # the server's own pruning of finished jobs, at most this often per process


class JobNotFound(LookupError):
    pass


class JobForbidden(PermissionError):
    pass


class FileNotReady(RuntimeError):
    pass


def find(caller: Principal, job_id: str) -> Job:
    """The job, when the caller may see it: its owner, or an administrator (who also sees jobs started by commands).

    Raises :class:`JobNotFound` or :class:`JobForbidden`.
    """
    job = db.session.get(Job, job_id) if JOB_ID.fullmatch(job_id) else None
    if job is None:
        raise JobNotFound(job_id)
    if job.owner_id != caller.user_id and caller.role != "admin":
        raise JobForbidden(job_id)
    return job


def percent(job: Job) -> float | None:
    if job.status == "done":
        return 100.0
    if not job.total:
        return None
    return round(100.0 * min(job.done, job.total) / job.total, 1)


def has_file(job: Job) -> bool:
    return job.kind.startswith("export.")


def job_json(job: Job) -> dict[str, Any]:
    links = {"self": url_for("jobs.job", job_id=job.id), "page": url_for("web.job_page", job_id=job.id)}
    if has_file(job) and job.status == "done":
        links["file"] = url_for("jobs.job_file", job_id=job.id)
    result = {k: v for k, v in (job.result or {}).items() if k != "key"} if job.result is not None else None
    return {
        "id": job.id, "kind": job.kind, "status": job.status,
        "progress": {"done": job.done, "total": job.total, "percent": percent(job)},
        "attempts": job.attempts, "error": job.error, "result": result,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "links": links,
    }


def open_file(job: Job) -> tuple[IO[bytes], str, str]:
    """The finished export's ``(stream, mimetype, file name)``; :class:`FileNotReady` before it is done."""
    from tracker.photos.service import storage

    if not has_file(job):
        raise JobNotFound(job.id)
    if job.status != "done" or not job.result:
        raise FileNotReady(job.status)
    return storage().blobs.get(job.result["key"]), job.result["mimetype"], job.result["name"]


def chunks(handle: IO[bytes], size: int = 64 * 1024) -> Any:
    with handle:
        while chunk := handle.read(size):
            yield chunk


def prune(days: int) -> int:
    """Remove the finished jobs (done or failed) older than ``days`` days, with their export files; how many."""
    from tracker.dbtypes import utcnow
    from tracker.photos.service import storage

    old = list(db.session.scalars(select(Job).where(Job.status.in_(("done", "failed")),
                                                    Job.finished_at <= utcnow() - timedelta(days=days))))
    storage().blobs.delete(job.result["key"] for job in old if job.result and job.result.get("key"))
    for job in old:
        db.session.delete(job)
    db.session.commit()
    return len(old)


def prune_now_and_then() -> None:
    """Prune finished jobs older than ``JOB_KEEP_DAYS`` from within the server, at most once an hour per process.

    Every photo makes a thumbnail job: without this the table grows by one
    row per photo until someone runs ``flask jobs prune``. In a request it
    runs once the answer is sent: the caller neither waits for it nor fails
    with it (a store that cannot delete a file leaves the job for next time).
    """
    days = current_app.config["JOB_KEEP_DAYS"]
    now = time.monotonic()
    last = current_app.extensions.get("jobs_pruned_at")
    if days <= 0 or (last is not None and now - last < PRUNE_EVERY_SECONDS):
        return
    current_app.extensions["jobs_pruned_at"] = now
    after_response(partial(_prune_and_log, days))


def _prune_and_log(days: int) -> None:
    removed = prune(days)
    if removed:
        log.info("pruned %d finished jobs older than %d days", removed, days)
