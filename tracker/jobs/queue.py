"""Starting jobs: on a Dramatiq queue in Redis when ``REDIS_URL`` is set, in-process otherwise.

Dramatiq, because it is small, retries failed messages with exponential
backoff, acknowledges a message only after the actor returns (a worker killed
mid-job leaves the message to be redelivered), and its Redis broker needs
nothing else. The message carries only the job's id; everything else is in
the ``jobs`` table, visible from every application server.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

from tracker.extensions import db
from tracker.jobs import runner
from tracker.jobs.models import Job
from tracker.jobs.service import prune_now_and_then

log = logging.getLogger(__name__)
ACTOR = "tracker_job"
QUEUE = "jobs"


def queued() -> bool:
    """Is a Redis queue configured (else jobs run in-process)?"""
    return bool(current_app.config.get("REDIS_URL"))


class QueueUnavailable(RuntimeError):
    """Redis did not take the job: nothing was queued (the API answers 503 with Retry-After)."""


def start(kind: str, args: dict[str, Any], owner_id: int | None = None, here_if_down: bool = False) -> Job:
    """Record a job and hand it to the queue (or run it now, in-process); the caller's work is committed first.

    When Redis does not answer, the job is run here instead if ``here_if_down`` (a thumbnail: the photo is
    already acknowledged), else it is removed and :class:`QueueUnavailable` raised.
    """
    if kind not in runner.KINDS:
        raise LookupError(f"no job kind named {kind!r}")
    prune_now_and_then()
    job = Job(id=uuid.uuid4().hex, kind=kind, args=args, owner_id=owner_id, status="queued", done=0, attempts=0)
    db.session.add(job)
    db.session.commit()
    job_id = job.id
    if not queued():
        run_in_process(job_id)
    else:
        try:
            actor(current_app._get_current_object()).send(job_id)  # type: ignore[attr-defined]
        except Exception as exc:  # redis-py's ConnectionError, TimeoutError, …
            log.warning("job %s (%s) not queued, Redis did not answer: %s", job_id, kind, exc)
            if not here_if_down:
                db.session.delete(db.session.get(Job, job_id))
                db.session.commit()
                raise QueueUnavailable(str(exc)) from exc
            run_in_process(job_id)
    found = db.session.get(Job, job_id)
    assert found is not None
    return found


def run_in_process(job_id: str) -> str:
    """Every attempt at once, without backoff: the same job as the worker runs, in this process."""
    while True:
        try:
            return runner.run(job_id)
        except runner.JobFailed:
            continue


# --- Dramatiq --------------------------------------------------------------------------------


def broker(app: Flask) -> Any:
    """The app's Redis broker (one per app), its actor declared."""
    found = app.extensions.get("job_broker")
    if found is None:
        from dramatiq.brokers.redis import RedisBroker

        config = app.config
        found = RedisBroker(url=config["REDIS_URL"], namespace=config["JOB_QUEUE_PREFIX"],
                            heartbeat_timeout=config["JOB_HEARTBEAT_SECONDS"] * 1000,
                            maintenance_chance=config["JOB_MAINTENANCE_CHANCE"])
        app.extensions["job_broker"] = found
        app.extensions["job_actor"] = _declare_actor(app, found)
    return found


def actor(app: Flask) -> Any:
    broker(app)
    return app.extensions["job_actor"]


def _declare_actor(app: Flask, redis_broker: Any) -> Any:
    import dramatiq

    def tracker_job(job_id: str) -> None:
        with app.app_context():
            try:
                runner.run(job_id)
            finally:
                db.session.remove()

    attempts = max(1, int(app.config["JOB_ATTEMPTS"]))
    return dramatiq.actor(tracker_job, actor_name=ACTOR, queue_name=QUEUE, broker=redis_broker,
                          max_retries=attempts, min_backoff=app.config["JOB_RETRY_BACKOFF_MS"],
                          max_backoff=300_000, time_limit=app.config["JOB_TIME_LIMIT_SECONDS"] * 1000,
                          retry_when=_retry_when)


def _retry_when(_retries: int, exc: BaseException) -> bool:
    """Retry the attempts the runner says may be tried again; its count in the database decides."""
    return isinstance(exc, runner.JobFailed)


def work(app: Flask, threads: int, stop: Callable[[], bool]) -> None:
    """Run a Dramatiq worker on this app's queue until ``stop()`` says so (``flask jobs worker``)."""
    import dramatiq

    redis_broker = broker(app)
    worker = dramatiq.Worker(redis_broker, queues={QUEUE}, worker_threads=threads, worker_timeout=1000)
    beat = _Heartbeat(redis_broker, app.config["JOB_HEARTBEAT_SECONDS"])
    beat.start()
    worker.start()
    log.info("job worker %s on %s (prefix %s): %d thread(s)", redis_broker.broker_id, app.config["REDIS_URL"],
             app.config["JOB_QUEUE_PREFIX"], threads)
    try:
        while not stop():
            time.sleep(0.2)
    finally:
        worker.stop(timeout=30_000)
        beat.halt.set()


class _Heartbeat(threading.Thread):
    """Tell Redis this worker is alive while its threads are busy with long jobs.

    Dramatiq's Redis broker refreshes a worker's heartbeat only when it fetches
    messages; a worker whose prefetch is full for longer than the heartbeat
    timeout would be taken for dead and its jobs handed to another worker.
    """

    def __init__(self, redis_broker: Any, timeout_seconds: int) -> None:
        super().__init__(daemon=True, name="job-heartbeat")
        self.broker, self.every = redis_broker, max(timeout_seconds / 4, 0.5)
        self.halt = threading.Event()

    def run(self) -> None:
        key = f"{self.broker.namespace}:__heartbeats__"
        while not self.halt.wait(self.every):
            try:
                self.broker.client.zadd(key, {self.broker.broker_id: int(time.time() * 1000)})
            except Exception as exc:  # Redis away for a moment: the worker's own fetches retry
                log.warning("job worker heartbeat not sent: %s", exc)
