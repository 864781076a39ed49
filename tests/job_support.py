"""A real job worker (``flask jobs worker``) on a real Redis, for the tests.

Each test gets a queue prefix of its own in Redis database 3, so parallel runs
(and other users of the same Redis) never share a queue.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sync_support import REPO

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/3")


def redis_client() -> Any:
    import redis

    return redis.Redis.from_url(REDIS_URL)


@pytest.fixture
def queue_settings() -> Iterator[dict[str, str]]:
    """The settings (and environment variables) of a queue of this test's own; its keys are removed afterwards."""
    client = redis_client()
    try:
        client.ping()
    except Exception as exc:
        pytest.fail(f"Redis is required for the job queue tests and is unavailable at {REDIS_URL}: {exc}")
    prefix = f"tracker-test-{uuid.uuid4().hex[:12]}"
    yield {"REDIS_URL": REDIS_URL, "JOB_QUEUE_PREFIX": prefix, "JOB_HEARTBEAT_SECONDS": "2",
           "JOB_MAINTENANCE_CHANCE": "1000000", "JOB_RETRY_BACKOFF_MS": "100", "JOB_MODULES": "tests.job_kinds"}
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def queue_config(settings: dict[str, str]) -> dict[str, Any]:
    """The same settings as app config (numbers as numbers)."""
    return {k: int(v) if v.isdigit() else v for k, v in settings.items()}


class Worker:
    """``flask jobs worker`` in a process of its own, on the test's database and queue."""

    def __init__(self, database_url: str, instance: Path, settings: dict[str, str],
                 env: dict[str, str] | None = None) -> None:
        instance.mkdir(parents=True, exist_ok=True)
        self.log_path = instance / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop)
        environment = {**os.environ, "DATABASE_URL": database_url, "INSTANCE_DIR": str(instance),
                       "PHOTO_DIR": str(instance / "photos"), "TRACKER_ENV": "testing", "PYTHONPATH": str(REPO),
                       **settings, **(env or {})}
        flask = Path(sys.executable).with_name("flask")
        self.process = subprocess.Popen([str(flask), "--app", "wsgi", "jobs", "worker", "--threads", "2"], cwd=REPO,
                                        env=environment, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: "job worker:" in self.output(), 60, "the worker to start", self)

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text("utf-8", "replace")

    def kill(self) -> None:
        """SIGKILL: no chance to finish, acknowledge or requeue anything."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self.log.closed:
            self.log.close()


def wait_for(check: Callable[[], Any], timeout: float, what: str, worker: Worker | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        if worker is not None and worker.process.poll() is not None:
            raise AssertionError(f"the worker exited while waiting for {what}: {worker.output()[-3000:]}")
        time.sleep(0.1)
    tail = worker.output()[-3000:] if worker is not None else ""
    raise AssertionError(f"timed out waiting for {what}. {tail}")
