"""Taking a submission: it *is* a push from another client.

The instance is read safely, checked against its form, mapped to the
household record and handed to ``households.push.push`` — the same
validation, commune assignment, decision, merge, scope and audit as
``POST /api/v1/sync/push``. This module never writes household tables.

* The same ``instanceID`` with the same XML is a resend (or the next part of
  a split submission): files not seen before are added, nothing else changes.
  Different XML under a known ``instanceID`` is refused (409).
* A new registration becomes the household whose id is the instance's UUID.
  An edit (``deprecatedID``) is based on the revision the edited instance
  wrote; when that instance has not arrived yet the edit is held and applied
  as soon as it does. A ``household_update`` is based on the ``__version``
  the officer's household list showed.
* Later parts of a split submission push the same record with more photos,
  always from the submission's own base, so the three-way merge keeps any
  change made meanwhile.
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import select

from sync.decide import REJECTED, UNCHANGED
from tracker.accounts.auth import Principal
from tracker.accounts.models import User
from tracker.dbtypes import utcnow
from tracker.errors import ApiError
from tracker.extensions import db
from tracker.households import locks, push
from tracker.households.models import HouseholdRevision
from tracker.openrosa import forms, messages
from tracker.openrosa.auth import principal_of
from tracker.openrosa.mapping import household_record, named_files, update_record
from tracker.openrosa.models import COMPLETE, HELD, WAITING_FILES, OpenRosaSubmission
from tracker.openrosa.models import REJECTED as ROW_REJECTED
from tracker.openrosa.parse import Instance, InstanceError, read_instance, unknown_paths
from tracker.openrosa.xml import OpenRosaError
from tracker.photos import uploads
from tracker.photos.blobs import StoreUnavailable
from tracker.photos.serving import RETRY_AFTER_SECONDS

IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


class Rejected(OpenRosaError):
    """The record did not pass; only the reason is kept (see ``record_rejection``)."""

    def __init__(self, status: int, message: str, receipt: dict[str, Any]) -> None:
        super().__init__(status, message)
        self.receipt = receipt


@dataclass
class Part:
    """One POST of a submission: the XML and the files it carries."""

    xml: bytes
    files: dict[str, bytes] = field(default_factory=dict)
    incomplete: bool = False


def _repeats() -> dict[str, frozenset[str]]:
    return {form.form_id: form.repeats for form in forms.all_forms()}


def check_instance(caller: Principal, part: Part) -> tuple[forms.Form, Instance]:
    """The form and the instance, or the precise OpenRosa error."""
    if not caller.may_write:
        raise OpenRosaError(403, "Tài khoản này chỉ được xem, không được gửi phiếu.")
    try:
        instance = read_instance(part.xml, _repeats())
    except InstanceError as exc:
        raise OpenRosaError(exc.status, str(exc)) from None
    form = forms.find(instance.form_id)
    if form is None:
        raise OpenRosaError(404, f"Máy chủ không có mẫu phiếu '{instance.form_id[:64]}'.")
    if instance.version != form.version:
        raise OpenRosaError(409, f"Mẫu phiếu '{form.form_id}' phiên bản '{instance.version[:64]}' đã cũ. "
                                 "Hãy tải mẫu phiếu mới (Tải mẫu phiếu trống) rồi nhập lại phiếu này.")
    if unknown := unknown_paths(instance, form.paths):
        raise OpenRosaError(400, "Phiếu có trường không có trong mẫu phiếu: " + ", ".join(unknown[:5]))
    named = {name for name, _ in named_files(instance.values)}
    if stray := sorted(set(part.files) - named):
        raise OpenRosaError(400, "Tệp đính kèm không có tên trong phiếu: " + ", ".join(stray[:5]))
    limit = current_app.config["PHOTO_MAX_BYTES"]
    for name, data in part.files.items():
        if len(data) > limit:
            raise OpenRosaError(413, f"Ảnh {name} lớn hơn {limit // (1024 * 1024)} MB.")
        if not (data.startswith(IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")):
            raise OpenRosaError(400, f"Tệp {name} không phải ảnh (JPEG, PNG hoặc WebP).")
    return form, instance


def _store_photos(caller: Principal, files: dict[str, bytes]) -> dict[str, str]:
    """Store each file exactly as ``PUT /api/v1/photos`` would; filename → SHA-256."""
    import io

    stored = {}
    for name, data in files.items():
        sha = hashlib.sha256(data).hexdigest()
        try:
            uploads.put_whole(caller, sha, io.BytesIO(data), len(data))
        except ApiError as exc:
            status = 413 if exc.status == 413 else 400
            raise OpenRosaError(status, f"Ảnh {name} không dùng được: {exc.message}") from None
        except StoreUnavailable:
            raise OpenRosaError(503, "Kho ảnh tạm thời không trả lời; hãy gửi lại sau.",
                                headers={"Retry-After": str(RETRY_AFTER_SECONDS)}) from None
        stored[name] = sha
    return stored


def receive(caller: Principal, part: Part) -> tuple[int, str]:
    """Take one POST; returns (status, message for the officer). The caller commits."""
    form, instance = check_instance(caller, part)
    row = db.session.get(OpenRosaSubmission, instance.instance_id)
    _refuse_reuse(row, instance)
    stored = _store_photos(caller, part.files)
    db.session.commit()  # end the read transaction: on SQLite the lock below must begin the write
    locks.lock(locks.NS_BATCH, ["openrosa\x00" + instance.instance_id])
    db.session.expire_all()
    row = db.session.get(OpenRosaSubmission, instance.instance_id)
    _refuse_reuse(row, instance)
    files = {name: None for name, _ in named_files(instance.values)}
    if row is not None and row.state != ROW_REJECTED:
        files.update({k: v for k, v in row.files.items() if v})
        if not set(stored) - {k for k, v in row.files.items() if v}:
            return 201, messages.resend(row)
    files.update(stored)
    if row is None or row.state == ROW_REJECTED:
        row = _new_row(row, caller, form, instance, part.xml)
    row.files = files
    return apply(caller, row, instance)


def _refuse_reuse(row: OpenRosaSubmission | None, instance: Instance) -> None:
    if row is not None and row.state != ROW_REJECTED and row.xml_hash != instance.xml_hash:
        raise OpenRosaError(409, "Mã phiếu (instanceID) này đã được gửi với nội dung khác; "
                                 "máy chủ giữ bản đã nhận trước.")


def _new_row(old: OpenRosaSubmission | None, caller: Principal, form: forms.Form, instance: Instance,
             xml: bytes) -> OpenRosaSubmission:
    if old is not None:
        db.session.delete(old)
        db.session.flush()
    row = OpenRosaSubmission(
        instance_id=instance.instance_id, form_id=form.form_id, form_version=form.version, user_id=caller.user_id,
        device_id=caller.device_id, xml_hash=instance.xml_hash, xml=xml.decode("utf-8"),
        deprecated_id=instance.deprecated_id, state=WAITING_FILES, files={}, message="", errors={},
        received_at=utcnow(), updated_at=utcnow())
    db.session.add(row)
    return row


def apply(caller: Principal, row: OpenRosaSubmission, instance: Instance) -> tuple[int, str]:
    """Map and push the submission (or hold it); then apply edits that waited for it."""
    target = _target(row, instance)
    if target is None:
        row.state, row.updated_at = HELD, utcnow()
        row.message = messages.held(row)
        return 201, row.message
    household_id, base = target
    record, errors = _record(row, instance, household_id, base)
    if row.revision is not None and _current_revision(household_id) == row.revision:
        record["base_revision"] = row.revision  # a later part, nothing changed meanwhile: a plain update
    if not errors:
        batch = f"openrosa:{hashlib.sha256((row.instance_id + repr(sorted(row.files.items()))).encode()).hexdigest()}"
        result = push.push(caller, batch, [record])["results"][0]
        errors = result["errors"] if result["result"] == REJECTED else {}
    if errors:
        return _rejected(row, errors)
    row.household_id, row.base_revision, row.result = household_id, base, result["result"]
    if result["result"] != UNCHANGED or row.revision is None:
        row.revision = result["revision"]
    if row.base_revision is None and result["result"] == "created":
        row.base_revision = result["revision"]  # later parts build on the revision this one created
    row.state = WAITING_FILES if any(v is None for v in row.files.values()) else COMPLETE
    row.errors, row.updated_at = {}, utcnow()
    row.message = messages.written(record, result, row)
    db.session.flush()
    _apply_waiting_edits(row)
    return 201, row.message


def _current_revision(household_id: str) -> int | None:
    return db.session.scalar(select(HouseholdRevision.revision).where(
        HouseholdRevision.household_id == household_id, HouseholdRevision.superseded_at.is_(None)))


def _target(row: OpenRosaSubmission, instance: Instance) -> tuple[str, int | None] | None:
    """(household id, base revision), or None while the edited instance has not arrived."""
    if row.household_id is not None:
        return row.household_id, row.base_revision
    if row.deprecated_id:
        original = db.session.get(OpenRosaSubmission, row.deprecated_id)
        if original is None or original.revision is None or original.household_id is None:
            return None
        # Files the edit still names but does not send again are the original's (as ODK Central keeps them).
        row.files = {name: sha or original.files.get(name) for name, sha in row.files.items()}
        return original.household_id, original.revision
    if row.form_id == "household_update":
        household_id = str(instance.values.get("household") or "")[:36]
        version = str(instance.values.get("base_version") or "")
        if not version.isdigit():
            raise OpenRosaError(400, "Phiếu cập nhật thiếu phiên bản của hộ (__version); hãy tải lại danh sách hộ.")
        return household_id, int(version)
    try:
        return str(uuid.UUID(row.instance_id.removeprefix("uuid:"))), None
    except ValueError:
        raise OpenRosaError(400, "Mã phiếu (instanceID) phải có dạng uuid:… để làm mã hộ.") from None


def _record(row: OpenRosaSubmission, instance: Instance, household_id: str,
            base: int | None) -> tuple[dict[str, Any], dict[str, list[str]]]:
    received = row.received_at
    if row.form_id == "household":
        labels = forms.published("household").choice_labels.get("ethnicity", {})
        return household_record(instance.values, household_id=household_id, base_revision=base, files=row.files,
                                ethnicities=labels, received=received)
    data = db.session.scalar(select(HouseholdRevision.data).where(
        HouseholdRevision.household_id == household_id, HouseholdRevision.revision == base))
    if data is None:
        raise OpenRosaError(404, "Không tìm thấy hộ này (hoặc phiên bản này của hộ) trên máy chủ; "
                                 "hãy tải lại danh sách hộ.")
    assert base is not None
    return update_record(instance.values, data, base_revision=base, files=row.files, received=received)


def _rejected(row: OpenRosaSubmission, errors: dict[str, list[str]]) -> tuple[int, str]:
    status = 403 if any("outside your communes" in m for ms in errors.values() for m in ms) else 400
    text = messages.rejected(errors)
    receipt = {column: getattr(row, column) for column in (
        "instance_id", "form_id", "form_version", "user_id", "device_id", "xml_hash", "xml", "deprecated_id")}
    raise Rejected(status, text, {**receipt, "errors": errors, "message": text})


def record_rejection(receipt: dict[str, Any]) -> None:
    """After the rollback: keep why a submission was refused, for the managers' sync health list.

    A rejected instance may be sent again (corrected or not); it is then taken afresh.
    """
    now = utcnow()
    row = db.session.get(OpenRosaSubmission, receipt["instance_id"])
    if row is not None and row.state != ROW_REJECTED:
        return
    if row is None:
        row = OpenRosaSubmission(**{k: v for k, v in receipt.items() if k not in ("errors", "message")},
                                 files={}, received_at=now)
        db.session.add(row)
    row.state, row.result, row.errors, row.message, row.updated_at = (
        ROW_REJECTED, REJECTED, receipt["errors"], receipt["message"], now)


def _apply_waiting_edits(original: OpenRosaSubmission) -> None:
    waiting = db.session.scalars(select(OpenRosaSubmission).where(
        OpenRosaSubmission.deprecated_id == original.instance_id, OpenRosaSubmission.state == HELD)).all()
    for edit in waiting:
        user = db.session.get(User, edit.user_id)
        if user is None:
            continue
        instance = read_instance(edit.xml.encode("utf-8"), _repeats())
        try:
            apply(principal_of(user, edit.device_id), edit, instance)
        except OpenRosaError as exc:  # the original stands; the edit is kept as refused, with why
            edit.state, edit.result, edit.message, edit.updated_at = ROW_REJECTED, REJECTED, exc.message, utcnow()
            edit.errors = exc.receipt["errors"] if isinstance(exc, Rejected) else {}
