"""Running one job: the kinds of job, attempts, progress, the end state.

Nothing here knows whether the job came from Redis or was started in-process.
A job's own database work and its ``done`` state are committed together, so a
worker killed half-way leaves neither behind: the job is redelivered and runs
again from the start. A message for a job that is already finished (delivered
again after its end was committed, before the queue heard of it) does nothing.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import update

from tracker.dbtypes import utcnow
from tracker.extensions import db
from tracker.jobs.models import Job

log = logging.getLogger(__name__)
JobFunction = Callable[["Context"], dict[str, Any] | None]
KINDS: dict[str, JobFunction] = {}


class JobFailed(Exception):
    """An attempt failed and the job will be tried again (the queue's retry with backoff)."""


def job_kind(name: str) -> Callable[[JobFunction], JobFunction]:
    """Register a function as the job kind ``name``; it receives a :class:`Context`."""

    def register(function: JobFunction) -> JobFunction:
        KINDS[name] = function
        return function

    return register


@dataclass
class Context:
    """What a job function sees: its id, arguments, owner, and a way to report progress."""

    job_id: str
    args: dict[str, Any]
    owner_id: int | None

    def progress(self, done: int, total: int | None = None) -> None:
        """Record how far the job got, on a connection of its own (the job's transaction stays open).

        On SQLite a job that is writing holds the database's one write lock;
        its progress is then skipped rather than waited for.
        """
        statement = update(Job).where(Job.id == self.job_id).values(done=done, total=total)
        sqlite = db.engine.dialect.name == "sqlite"
        with db.engine.connect() as connection:
            try:
                if sqlite:
                    connection.exec_driver_sql("PRAGMA busy_timeout=0")
                connection.execute(statement)
                connection.commit()
            except Exception as exc:  # progress is a courtesy; the job goes on
                if not sqlite:
                    raise
                connection.rollback()
                log.debug("progress of job %s not recorded: %s", self.job_id, exc)
            finally:
                if sqlite:
                    connection.exec_driver_sql("PRAGMA busy_timeout=30000")


def attempts_allowed() -> int:
    return max(1, int(current_app.config.get("JOB_ATTEMPTS", 3)))


def run(job_id: str) -> str:
    """One attempt at the job; returns its status afterwards.

    Raises :class:`JobFailed` when the attempt failed and attempts remain.
    """
    job = db.session.get(Job, job_id)
    if job is None:
        log.warning("job %s is not in the database; message dropped", job_id)
        return "missing"
    if job.finished:
        log.info("job %s is already %s; the message delivered again is ignored", job_id, job.status)
        return job.status
    job.attempts += 1
    job.status, job.started_at = "running", utcnow()
    context = Context(job.id, dict(job.args or {}), job.owner_id)
    function = KINDS.get(job.kind)
    db.session.commit()
    try:
        if function is None:
            raise LookupError(f"no job kind named {job.kind!r} on this server")
        result = function(context)
    except Exception as exc:
        db.session.rollback()
        return _failed(job_id, exc)
    job = db.session.get(Job, job_id)
    assert job is not None
    job.status, job.result, job.finished_at, job.error = "done", result or {}, utcnow(), None
    if job.total is not None:
        job.done = job.total
    db.session.commit()  # the job's own writes and its end, in one transaction
    log.info("job %s (%s) done after %d attempt(s)", job_id, job.kind, job.attempts)
    return "done"


def _failed(job_id: str, exc: Exception) -> str:
    reason = f"{exc.__class__.__name__}: {exc}"[:2000]
    job = db.session.get(Job, job_id)
    assert job is not None
    final = job.attempts >= attempts_allowed()
    job.status, job.error = ("failed" if final else "retrying"), reason
    if final:
        job.finished_at = utcnow()
    db.session.commit()
    log.warning("job %s (%s) attempt %d failed: %s%s", job_id, job.kind, job.attempts, reason,
                "" if final else "; it will be tried again")
    if not final:
        raise JobFailed(reason) from exc
    return "failed"
