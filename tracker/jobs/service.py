"""Looking up a job for a caller, and what is shown of it."""
from __future__ import annotations

import re
from typing import IO, Any

from flask import url_for

from tracker.accounts.auth import Principal
from tracker.extensions import db
from tracker.jobs.models import Job

JOB_ID = re.compile(r"[0-9a-f]{32}")


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
