"""Builders for the OpenRosa tests: enrolled devices, submission XML and multipart POSTs."""
from __future__ import annotations

import base64
import io
import uuid
from typing import Any
from xml.sax.saxutils import escape

from tests.sync_support import COMMUNE_1, PASSWORD, image_bytes, load_communes, make_user  # noqa: F401
from tracker.extensions import db
from tracker.openrosa import enrol, forms

NS = {"f": "http://openrosa.org/xforms/xformsList", "m": "http://openrosa.org/xforms/xformsManifest",
      "r": "http://openrosa.org/http/response"}


def enrolled(username: str, device: str = "phone-a") -> str:
    """The base path (``/openrosa/key/<key>``) of a new device of ``username``."""
    enrolment = enrol.enrol(username, "http://localhost", device)
    db.session.commit()
    return f"/openrosa/key/{enrolment.key}"


def basic(username: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _el(name: str, value: Any) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"


def household_xml(instance_id: str | None = None, *, deprecated: str | None = None, version: str | None = None,
                  photos: list[tuple[str, str]] = (), extra: str = "", **fields: Any) -> bytes:
    """A ``household`` instance as Collect writes it."""
    values = {
        "start": "2025-04-02T16:00:00.000+07:00", "end": "2025-04-02T16:40:00.000+07:00",
        "household_head": "Lò Văn Việt", "ethnicity": "thai", "category": "poor", "members": "5",
        "national_id": "014085001234", "village": "Bản Lan Quynh", "declared_commune": COMMUNE_1,
        "support_type": "new_build", "status": "completed", "status_rank": "4", "surveyed_on": "",
        "approved_on": "2025-01-20", "started_on": "2025-02-10", "completed_on": "2025-04-02",
        "handed_over_on": "", "withdrawn_on": "",
        "funding": [("central_budget", "60000000"), ("social_fund", "10000000")],
        "location": "21.05 104.05 700 8.0", "note": "",
    }
    values.update(fields)
    body = []
    for name, value in values.items():
        if name == "funding":
            body += ["<funding>" + _el("source", s) + _el("amount_vnd", a) + "</funding>" for s, a in value]
            if not value:
                continue
        elif name == "location":
            body.append(_el(name, value))
            body += ["<photo>" + _el("stage", stage) + _el("file", fn) + "</photo>" for fn, stage in photos]
        else:
            body.append(_el(name, value))
    instance_id = instance_id or f"uuid:{uuid.uuid4()}"
    meta = _el("instanceID", instance_id) + (_el("deprecatedID", deprecated) if deprecated else "")
    version = version or forms.published("household").version
    return (f'<?xml version="1.0"?><household xmlns:jr="http://openrosa.org/javarosa" '
            f'xmlns:orx="http://openrosa.org/xforms" id="household" version="{version}">'
            + "".join(body) + extra + f"<meta>{meta}</meta></household>").encode()


def update_xml(household_id: str, base_version: int, instance_id: str | None = None, *,
               photos: list[tuple[str, str]] = (), **fields: Any) -> bytes:
    values = {"start": "2025-04-10T08:00:00.000+07:00", "end": "2025-04-10T08:10:00.000+07:00",
              "household": household_id, "base_version": str(base_version), "current_status": "started",
              "status": "completed", "status_rank": "4", "completed_on": "2025-04-09",
              "funding": [("local_budget", "5000000")], "note": ""}
    values.update(fields)
    body = []
    for name, value in values.items():
        if name == "funding":
            body += ["<funding>" + _el("source", s) + _el("amount_vnd", a) + "</funding>" for s, a in value]
        else:
            body.append(_el(name, value))
    body += ["<photo>" + _el("stage", stage) + _el("file", fn) + "</photo>" for fn, stage in photos]
    instance_id = instance_id or f"uuid:{uuid.uuid4()}"
    version = forms.published("household_update").version
    return (f'<household_update id="household_update" version="{version}">' + "".join(body)
            + f"<meta>{_el('instanceID', instance_id)}</meta></household_update>").encode()


def post(client: Any, base: str, xml: bytes, files: dict[str, bytes] | None = None, *, incomplete: bool = False,
         headers: dict[str, str] | None = None) -> Any:
    data: dict[str, Any] = {"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")}
    for name, content in (files or {}).items():
        data[name] = (io.BytesIO(content), name, "image/jpeg")
    if incomplete:
        data["*isIncomplete*"] = "yes"
    return client.post(f"{base}/submission", data=data, content_type="multipart/form-data", headers=headers or {})


def photo(seed: int = 0) -> bytes:
    return image_bytes(size=(64 + seed, 48))
