"""The job queue: real Redis, a real ``flask jobs worker`` process, on SQLite and PostgreSQL.

An export started over HTTP runs on the worker and gives the same file as the
export made in the request; the worker makes thumbnails; a failing job is
retried, then shown failed with its reason; a worker killed mid-job loses
nothing and doubles nothing; without Redis the same jobs run in-process.
"""
from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests import job_kinds  # noqa: F401  (the gated kind, known to this process too)
from tests.helpers import json_error
from tests.job_support import Worker, queue_config, queue_settings, wait_for  # noqa: F401  (fixture)
from tests.progress_builders import bearer
from tests.sync_support import image_bytes
from tests.test_progress import AS_OF, REPORT_TIME, scenario
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.jobs import queue
from tracker.jobs.models import Job


def _job(job_id: str) -> Job:
    db.session.expire_all()
    found = db.session.get(Job, job_id)
    assert found is not None
    db.session.commit()  # no transaction left open while the worker writes (SQLite)
    return found


@pytest.fixture
def queued_app(app: Flask, queue_settings: dict[str, str]) -> Flask:  # noqa: F811
    app.config.update(queue_config(queue_settings))
    return app


@pytest.fixture
def worker(queued_app: Flask, queue_settings: dict[str, str], tmp_path: Path) -> Iterator[Worker]:  # noqa: F811
    db.session.commit()
    started = Worker(queued_app.config["SQLALCHEMY_DATABASE_URI"], Path(queued_app.config["INSTANCE_DIR"]),
                     queue_settings)
    yield started
    started.stop()


def _csv_rows(data: bytes) -> list[list[str]]:
    """The CSV's lines without the export time (which differs between two exports by a few seconds)."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return [row for row in rows if not row or row[0] not in ("Xuất lúc", "Exported at")]


def _wait_done(client, job_id: str, headers: dict[str, str], worker: Worker | None = None) -> dict:
    def finished() -> dict | None:
        db.session.commit()  # the test's app context shares the requests' session: no snapshot kept between polls
        body = client.get(f"/api/v1/jobs/{job_id}", headers=headers).get_json()
        return body if body["status"] in ("done", "failed") else None

    return wait_for(finished, 60, f"job {job_id}", worker)


def test_export_job_over_http_gives_the_file_of_the_request(queued_app: Flask, worker: Worker, tmp_path: Path) -> None:
    scenario(tmp_path)
    client = queued_app.test_client()
    manager = bearer("manager")
    query = f"as_of={AS_OF}&known_at={REPORT_TIME}"
    inline = client.get(f"/api/v1/export/households.csv?{query}", headers=manager)
    assert inline.status_code == 200  # 7 households: under EXPORT_INLINE_ROWS, answered at once

    queued_app.config["EXPORT_INLINE_ROWS"] = 5  # now the same list is "large"
    started = client.get(f"/api/v1/export/households.csv?{query}", headers=manager)
    assert started.status_code == 202, started.get_data(as_text=True)
    job = started.get_json()
    assert started.headers["Location"] == f"/api/v1/jobs/{job['id']}"
    assert job["kind"] == "export.households" and job["status"] in ("queued", "running", "done")

    done = _wait_done(client, job["id"], manager, worker)
    assert done["status"] == "done", done
    assert done["progress"] == {"done": 7, "total": 7, "percent": 100.0}
    assert done["attempts"] == 1 and done["error"] is None
    assert done["links"]["file"] == f"/api/v1/jobs/{job['id']}/file"
    assert done["result"]["rows"] == 7 and "key" not in done["result"]
    got = client.get(done["links"]["file"], headers=manager)
    assert got.status_code == 200 and got.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "households-2025-04-16.csv" in got.headers["Content-Disposition"]
    assert _csv_rows(got.data) == _csv_rows(inline.data)
    assert len(_csv_rows(got.data)) > 7


def test_export_job_started_by_post_has_a_page_with_its_progress_then_the_file(queued_app: Flask, worker: Worker,
                                                                               tmp_path: Path) -> None:
    scenario(tmp_path)
    client = queued_app.test_client()
    manager = bearer("manager", name="boss")
    started = client.post(f"/api/v1/export/households.xlsx/job?as_of={AS_OF}", headers=manager)
    assert started.status_code == 202, started.get_data(as_text=True)
    job_id = started.get_json()["id"]
    assert _wait_done(client, job_id, manager, worker)["status"] == "done"
    _sign_in(client, "boss")  # the page wants a signed-in browser
    page = client.get(f"/jobs/{job_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-status="done"' in html and f"/jobs/{job_id}/file" in html and "refresh" not in html
    workbook = client.get(f"/jobs/{job_id}/file")
    assert workbook.status_code == 200 and workbook.data[:2] == b"PK"


def test_the_worker_makes_the_thumbnail(queued_app: Flask, worker: Worker) -> None:
    client = queued_app.test_client()
    officer = bearer("manager")
    data = image_bytes("JPEG", (800, 600))
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    answer = client.put(f"/api/v1/photos/{sha}", data=data, headers={**officer, "Content-Type": "image/jpeg"})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    job_id = db.session.scalar(select(Job.id).where(Job.kind == "photos.thumbnail"))
    db.session.commit()
    assert job_id is not None
    wait_for(lambda: _job(job_id).status == "done", 60, "the thumbnail job", worker)
    thumb = client.get(f"/api/v1/photos/{sha}/thumbnail", headers=officer)
    assert thumb.status_code == 200 and thumb.data[:2] == b"\xff\xd8"
    from PIL import Image

    with Image.open(io.BytesIO(thumb.data)) as small:
        assert max(small.size) == 320


def test_a_failing_job_is_retried_then_shown_failed_with_its_reason(queued_app: Flask, worker: Worker) -> None:
    admin = bearer("admin", name="root")
    job = queue.start("households.reassign", {"set": "no-such-map"})
    client = queued_app.test_client()
    done = _wait_done(client, job.id, admin, worker)
    assert done["status"] == "failed"
    assert done["attempts"] == queued_app.config["JOB_ATTEMPTS"] == 3
    assert done["error"] == "LookupError: no boundary set named 'no-such-map'"
    assert "links" in done and "file" not in done["links"]
    assert worker.output().count("it will be tried again") == 2
    _sign_in(client, "root")
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert 'data-status="failed"' in page and "no boundary set named" in page


def test_a_worker_killed_mid_job_loses_and_doubles_nothing(queued_app: Flask, worker: Worker,
                                                          queue_settings: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    folder = tmp_path / "gated"
    folder.mkdir()
    admin = bearer("admin")
    job = queue.start("test.gated", {"folder": str(folder)})
    attempts = folder / "attempts"
    wait_for(lambda: attempts.exists() and attempts.read_text().count("started") == 1, 60, "the first attempt", worker)
    db.session.commit()
    running = queued_app.test_client().get(f"/api/v1/jobs/{job.id}", headers=admin).get_json()
    assert running["status"] == "running" and running["attempts"] == 1
    assert running["progress"] == {"done": 1, "total": 2, "percent": 50.0}  # the job's progress, while it runs
    worker.kill()
    again = Worker(queued_app.config["SQLALCHEMY_DATABASE_URI"], Path(queued_app.config["INSTANCE_DIR"]),
                   queue_settings)
    try:
        wait_for(lambda: attempts.read_text().count("started") == 2, 60, "the job redelivered", again)
        (folder / "gate").touch()
        wait_for(lambda: _job(job.id).status == "done", 60, "the job to finish", again)
        finished = _job(job.id)
        assert finished.attempts == 2 and finished.result == {"passed": "gate"}
        # the killed attempt's database writes went with it: one effect, not two
        effects = db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "test.effect"))
        db.session.commit()
        assert effects == 1
        # the same message delivered once more (as after a kill between the commit and the acknowledgement)
        queue.actor(queued_app).send(job.id)
        wait_for(lambda: "already done; the message delivered again is ignored" in again.output(), 30,
                 "the repeated message", again)
        assert attempts.read_text().count("started") == 2 and _job(job.id).attempts == 2
    finally:
        again.stop()


def test_without_redis_jobs_run_in_process(app: Flask, runner, tmp_path: Path) -> None:
    assert not app.config["REDIS_URL"]
    scenario(tmp_path)
    client = app.test_client()
    manager = bearer("manager")
    app.config["EXPORT_INLINE_ROWS"] = 0
    started = client.get(f"/api/v1/export/households.csv?as_of={AS_OF}&known_at={REPORT_TIME}", headers=manager)
    assert started.status_code == 202
    body = started.get_json()
    assert body["status"] == "done" and body["progress"]["percent"] == 100.0  # run before the answer
    assert client.get(body["links"]["file"], headers=manager).status_code == 200
    rebuilt = runner.invoke(args=["tallies", "rebuild", "--job"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "run in-process: done" in rebuilt.output
    failing = queue.start("households.reassign", {"set": "nope"})
    assert failing.status == "failed" and failing.attempts == 3 and "no boundary set named 'nope'" in failing.error


def test_unknown_and_other_peoples_jobs(app: Flask, tmp_path: Path) -> None:
    client = app.test_client()
    owner = bearer("manager", name="owner")
    other = bearer("manager", name="other")
    job = queue.start("tallies.rebuild", {}, owner_id=_user_id("owner"))
    json_error(client.get("/api/v1/jobs/0123456789abcdef0123456789abcdef", headers=owner), 404, "job_not_found")
    json_error(client.get("/api/v1/jobs/not-a-job", headers=owner), 404, "job_not_found")
    json_error(client.post("/api/v1/export/households.csv/job?set=nowhere", headers=owner), 404)
    assert db.session.scalar(select(func.count()).select_from(Job)) == 1  # no job for a map that does not exist
    json_error(client.get(f"/api/v1/jobs/{job.id}", headers=other), 403, "not_your_job")
    json_error(client.get(f"/api/v1/jobs/{job.id}/file", headers=other), 403, "not_your_job")
    json_error(client.get(f"/api/v1/jobs/{job.id}/file", headers=owner), 404, "no_file")
    assert client.get(f"/api/v1/jobs/{job.id}", headers=owner).get_json()["status"] == "done"
    json_error(client.get(f"/api/v1/jobs/{job.id}"), 401)
    _sign_in(client, "other")
    page = client.get(f"/jobs/{job.id}?lang=en")
    assert page.status_code == 403 and "another account" in page.get_data(as_text=True)
    missing = client.get("/jobs/0123456789abcdef0123456789abcdef?lang=vi")
    assert missing.status_code == 404 and "Không có công việc nào mang mã này." in missing.get_data(as_text=True)


def _sign_in(client, name: str) -> None:
    from tests.test_web import token

    answer = client.post("/login", data={"username": name, "password": "correct horse battery",
                                         "csrf_token": token(client)})
    assert answer.status_code in (302, 303), answer.get_data(as_text=True)[:500]


def _user_id(name: str) -> int:
    from tracker.accounts.models import User

    found = db.session.scalar(select(User.id).where(User.username == name))
    assert found is not None
    return found


def test_prune_removes_old_finished_jobs_and_their_files(app: Flask, runner, tmp_path: Path) -> None:
    from datetime import timedelta

    from tracker.dbtypes import utcnow
    from tracker.photos.service import storage

    scenario(tmp_path)
    app.config["EXPORT_INLINE_ROWS"] = 0
    client = app.test_client()
    job_id = client.get(f"/api/v1/export/households.csv?as_of={AS_OF}", headers=bearer("manager")).get_json()["id"]
    key = _job(job_id).result["key"]
    assert storage().blobs.size(key)
    assert "Removed 0 finished jobs" in runner.invoke(args=["jobs", "prune", "--days", "1"]).output
    db.session.get(Job, job_id).finished_at = utcnow() - timedelta(days=2)
    db.session.commit()
    assert "Removed 1 finished jobs" in runner.invoke(args=["jobs", "prune", "--days", "1"]).output
    assert db.session.get(Job, job_id) is None and storage().blobs.size(key) is None


def test_the_server_prunes_old_finished_jobs_itself_now_and_then(app: Flask, tmp_path: Path) -> None:
    from datetime import timedelta

    from tracker.dbtypes import utcnow
    from tracker.photos.service import storage

    scenario(tmp_path)
    app.config["EXPORT_INLINE_ROWS"] = 0
    client = app.test_client()
    url = f"/api/v1/export/households.csv?as_of={AS_OF}"
    old = client.get(url, headers=bearer("manager")).get_json()["id"]
    key = _job(old).result["key"]
    db.session.get(Job, old).finished_at = utcnow() - timedelta(days=31)
    db.session.commit()
    recent = client.get(url, headers=bearer("manager")).get_json()["id"]  # pruned at most hourly: not yet
    assert db.session.get(Job, old) is not None
    app.extensions.pop("jobs_pruned_at")
    app.config["JOB_KEEP_DAYS"] = 0  # never
    client.get(url, headers=bearer("manager"))
    assert db.session.get(Job, old) is not None
    app.extensions.pop("jobs_pruned_at", None)
    app.config["JOB_KEEP_DAYS"] = 30
    client.get(url, headers=bearer("manager"))
    db.session.expire_all()
    assert db.session.get(Job, old) is None and storage().blobs.size(key) is None
    assert _job(recent).status == "done"  # a job of today stays


def test_a_failing_prune_does_not_cost_the_request_that_set_it_off(
        app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """The server prunes once the answer is sent: a store that fails to delete an old file fails no export."""
    from datetime import timedelta

    from tracker.dbtypes import utcnow
    from tracker.photos.service import storage

    scenario(tmp_path)
    app.config["EXPORT_INLINE_ROWS"] = 0
    client = app.test_client()
    url = f"/api/v1/export/households.csv?as_of={AS_OF}"
    old = client.get(url, headers=bearer("manager")).get_json()["id"]
    db.session.get(Job, old).finished_at = utcnow() - timedelta(days=31)
    db.session.commit()

    def broken(keys: object) -> None:
        raise OSError("the export store is away")

    monkeypatch.setattr(storage().blobs, "delete", broken)
    app.extensions.pop("jobs_pruned_at")
    with caplog.at_level(logging.ERROR):
        answer = client.get(url, headers=bearer("manager"))
    assert answer.status_code == 202, answer.get_data(as_text=True)
    assert _job(answer.get_json()["id"]).status == "done"
    db.session.expire_all()
    assert db.session.get(Job, old) is not None  # kept for the next prune: its file is still there
    assert any("export store is away" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_with_redis_down_an_export_is_503_and_a_thumbnail_is_made_here(app: Flask, runner, tmp_path: Path) -> None:
    from tests.sync_support import free_port

    scenario(tmp_path)
    app.config.update(REDIS_URL=f"redis://127.0.0.1:{free_port()}/3", JOB_QUEUE_PREFIX="tracker-test-down",
                      EXPORT_INLINE_ROWS=0)
    client = app.test_client()
    manager = bearer("manager")
    down = client.get(f"/api/v1/export/households.csv?as_of={AS_OF}", headers=manager)
    json_error(down, 503, "queue_unavailable")
    assert down.headers["Retry-After"] == "30"
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0  # nothing left queued that no worker gets
    import hashlib

    data = image_bytes("JPEG", (400, 300))
    sha = hashlib.sha256(data).hexdigest()
    stored = client.put(f"/api/v1/photos/{sha}", data=data, headers={**manager, "Content-Type": "image/jpeg"})
    assert stored.status_code == 201  # the photo is acknowledged, and its thumbnail made in the request
    assert client.get(f"/api/v1/photos/{sha}/thumbnail", headers=manager).status_code == 200
    refused = runner.invoke(args=["tallies", "rebuild", "--job"])
    assert refused.exit_code == 1 and "the job queue did not answer" in refused.output
