"""The form attachments generated for each officer: their communes and their households.

``communes.csv`` lists the communes the officer may declare, on the map in
force today (``name`` is the commune code, ``label`` its name); ``households.csv`` lists the households in
the officer's scope, ODK Entities style: ``name`` (the household id),
``label``, ``__version`` (its current revision) and ``status``. Their md5
changes with their content, so Collect downloads them again when the data
changes.
"""
from __future__ import annotations

import csv
import hashlib
import io

from sqlalchemy import select

from tracker.accounts.auth import Principal
from tracker.boundaries.models import AdminUnit
from tracker.extensions import db
from tracker.households.models import HouseholdRevision
from tracker.households.scope import revision_in_scope
from tracker.households.service import set_in_force
from tracker.progress.service import today_vn

STATUS_VI = {"surveyed": "đã khảo sát", "approved": "đã phê duyệt", "started": "đã khởi công",
             "completed": "đã hoàn thành", "handed_over": "đã bàn giao", "withdrawn": "rút khỏi chương trình"}


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def communes_csv(caller: Principal) -> bytes:
    """The communes of the map in force today: what an officer declares now belongs to it."""
    boundary_set = set_in_force(today_vn())
    rows: list[list[str]] = []
    scope = caller.commune_scope()
    if boundary_set is not None:
        query = select(AdminUnit.code, AdminUnit.name).where(
            AdminUnit.boundary_set_id == boundary_set.id, AdminUnit.level == "commune")
        if scope is not None:
            query = query.where(AdminUnit.code.in_(sorted(scope)))
        rows = [[code, name] for code, name in db.session.execute(query.order_by(AdminUnit.name, AdminUnit.code))]
    named = {row[0] for row in rows}
    rows += [[code, code] for code in sorted(scope or ()) if code not in named]  # a code of another set
    return _csv(["name", "label"], rows)


def households_csv(caller: Principal) -> bytes:
    query = select(HouseholdRevision.household_id, HouseholdRevision.revision, HouseholdRevision.household_head,
                   HouseholdRevision.data, HouseholdRevision.status).where(HouseholdRevision.superseded_at.is_(None))
    scope = caller.commune_scope()
    if scope is not None:
        query = query.where(revision_in_scope(HouseholdRevision, scope))
    rows = []
    for household_id, revision, head, data, status in db.session.execute(
            query.order_by(HouseholdRevision.head_ascii, HouseholdRevision.household_id)):
        village = (data or {}).get("village") or ""
        label = f"{head}{f' — {village}' if village else ''} ({STATUS_VI.get(status, status)})"
        rows.append([household_id, label, str(revision), status])
    return _csv(["name", "label", "__version", "status"], rows)


GENERATORS = {"communes.csv": communes_csv, "households.csv": households_csv}


def generate(filename: str, caller: Principal) -> bytes | None:
    make = GENERATORS.get(filename)
    return make(caller) if make else None


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()
