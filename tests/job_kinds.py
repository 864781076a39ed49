"""A job kind for the tests (loaded through ``JOB_MODULES``): it writes to the database, then waits at a gate.

Each attempt records an audit event in the job's transaction, notes its start
in a file, and waits until the test opens the gate (a file); a worker killed at
the gate must leave no audit event behind.
"""
from __future__ import annotations

import time
from pathlib import Path

from tracker.audit import service as audit
from tracker.jobs.runner import Context, job_kind


@job_kind("test.gated")
def gated(ctx: Context) -> dict[str, str]:
    folder = Path(ctx.args["folder"])
    ctx.progress(1, 2)
    audit.record("test.effect", object_type="job", object_id=ctx.job_id)
    with open(folder / "attempts", "a", encoding="utf-8") as handle:
        handle.write("started\n")
    deadline = time.monotonic() + 120
    while not (folder / "gate").exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the gate was never opened")
        time.sleep(0.05)
    return {"passed": "gate"}
