"""``/api/v1/jobs/<id>``: a job's status and progress, and ``…/file`` for a finished export."""
from __future__ import annotations

from typing import Any

from flask import Response

from schemas.jobs import JobSchema
from tracker.accounts.auth import BEARER_DOC, auth_required, principal
from tracker.api import Blueprint
from tracker.errors import ApiError
from tracker.http import attachment
from tracker.jobs import service
from tracker.jobs.models import Job

blp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs", description="Slow work run as jobs")


def _find(job_id: str) -> Job:
    try:
        return service.find(principal(), job_id)
    except service.JobNotFound:
        raise ApiError(404, "There is no job with this id.", code="job_not_found") from None
    except service.JobForbidden:
        raise ApiError(403, "This job was started by another account.", code="not_your_job") from None


@blp.route("/<string:job_id>")
@blp.doc(**BEARER_DOC)
@auth_required()
@blp.response(200, JobSchema)
@blp.alt_response(403, description="Another account's job")
@blp.alt_response(404, description="No such job")
def job(job_id: str) -> dict[str, Any]:
    """The job's status (queued, running, retrying, done, failed), progress, reason of failure, and links."""
    return service.job_json(_find(job_id))


@blp.route("/<string:job_id>/file")
@blp.doc(**BEARER_DOC)
@auth_required()
@blp.response(200, description="The exported file")
@blp.alt_response(409, description="The job has not finished (or failed)")
def job_file(job_id: str) -> Response:
    """The file an export job wrote, once it is done."""
    found = _find(job_id)
    try:
        handle, mimetype, name = service.open_file(found)
    except service.JobNotFound:
        raise ApiError(404, "This job makes no file.", code="no_file") from None
    except service.FileNotReady:
        raise ApiError(409, f"The job is {found.status}: its file is not ready.", code="not_ready",
                       headers={"Retry-After": "5"}) from None
    return attachment(service.chunks(handle), mimetype, name)
