"""``flask jobs worker`` runs queued jobs; ``flask jobs show ID`` tells where one is."""
from __future__ import annotations

import json
import signal
import threading
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from tracker.extensions import db
from tracker.jobs import queue
from tracker.jobs.models import Job

jobs_cli = AppGroup("jobs", help="Slow work run as jobs (exports, thumbnails, re-assignment, tally rebuilds).")


@jobs_cli.command("worker")
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Jobs run at once by this worker.")
def worker_command(threads: int) -> None:
    """Run the jobs queued in Redis (REDIS_URL) until stopped (SIGTERM or Ctrl-C finishes the jobs in hand)."""
    if not queue.queued():
        raise click.ClickException("REDIS_URL is not set: jobs run in-process, there is no queue to work on.")
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    db.session.remove()
    click.echo(f"job worker: {threads} thread(s) on {app.config['REDIS_URL']} "
               f"(prefix {app.config['JOB_QUEUE_PREFIX']})")
    queue.work(app, threads, stopping.is_set)
    click.echo("job worker stopped")


@jobs_cli.command("show")
@click.argument("job_id")
def show_command(job_id: str) -> None:
    """A job's status, progress, reason of failure and result, as JSON."""
    job = db.session.get(Job, job_id)
    if job is None:
        raise click.ClickException(f"there is no job {job_id!r}")
    click.echo(json.dumps(describe(job), ensure_ascii=False, indent=2))


@jobs_cli.command("prune")
@click.option("--days", type=click.IntRange(min=0), default=30, show_default=True,
              help="Remove finished jobs older than this, with the files of export jobs.")
def prune_command(days: int) -> None:
    """Remove finished jobs (and their export files) older than DAYS days."""
    from tracker.jobs.service import prune

    click.echo(f"Removed {prune(days)} finished jobs older than {days} days.")


def describe(job: Job) -> dict[str, Any]:
    return {"id": job.id, "kind": job.kind, "status": job.status, "done": job.done, "total": job.total,
            "attempts": job.attempts, "error": job.error, "result": job.result}


def started(kind: str, args: dict[str, Any]) -> None:
    """Start a job from a command, and say so (a ClickException when Redis does not answer)."""
    try:
        job = queue.start(kind, args)
    except queue.QueueUnavailable as exc:
        raise click.ClickException(f"the job queue did not answer ({exc}); nothing was started") from None
    where = "queued" if queue.queued() else "run in-process"
    click.echo(f"job {job.id} ({job.kind}) {where}: {job.status}; `flask jobs show {job.id}` tells where it is")
