"""``/jobs/<id>``: a job's page (progress while it runs, then its file or the reason it failed)."""
from __future__ import annotations

import logging
from typing import Any

from flask import Response, render_template, request
from flask_babel import gettext as _

from tracker.errors import error_response
from tracker.http import attachment
from tracker.jobs import service
from tracker.jobs.models import Job
from tracker.jobs.queue import QueueUnavailable
from tracker.web.auth import current_principal, login_required
from tracker.web.blueprint import BadQuery, bp


def _find(job_id: str) -> Job:
    who = current_principal()
    assert who is not None
    try:
        return service.find(who, job_id)
    except service.JobNotFound:
        raise BadQuery(404, _("There is no job with this id.")) from None
    except service.JobForbidden:
        raise BadQuery(403, _("This job was started by another account.")) from None


@bp.route("/jobs/<job_id>")
@login_required()
def job_page(job_id: str) -> Any:
    job = _find(job_id)
    return render_template("job.html", job=job, percent=service.percent(job), has_file=service.has_file(job))


@bp.route("/jobs/<job_id>/file")
@login_required()
def job_file_page(job_id: str) -> Any:
    job = _find(job_id)
    try:
        handle, mimetype, name = service.open_file(job)
    except service.JobNotFound:
        raise BadQuery(404, _("This job makes no file.")) from None
    except service.FileNotReady:
        raise BadQuery(409, _("The file is not ready yet.")) from None
    return attachment(service.chunks(handle), mimetype, name)


RETRY_AFTER_SECONDS = 30
log = logging.getLogger(__name__)


def queue_unavailable(error: QueueUnavailable) -> Response:
    """Redis is down: 503 with ``Retry-After``; no job was left behind."""
    log.warning("job queue unavailable on %s %s: %s", request.method, request.path, error)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    message = _("The job queue is unavailable for a moment; try again later.")
    if request.path.startswith("/api/"):
        return error_response(503, "The job queue is unavailable for a moment; try again later.",
                              code="queue_unavailable", headers=headers)
    return Response(render_template("error.html", status=503, message=message), status=503, headers=headers)
