"""What the server remembers of each OpenRosa submission (by its ``instanceID``).

The household itself is written only through the push; this row is the
submission's receipt: which household and revision it became, which of the
files its XML names have arrived, an edit held until the version it edits
arrives, or why it was rejected.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.dbtypes import UTCDateTime, utcnow
from tracker.extensions import db

# state: the household is written and every named file has arrived / some are
# still to come / an edit waits for the version it edits / refused (not stored).
COMPLETE, WAITING_FILES, HELD, REJECTED = "complete", "waiting_files", "held", "rejected"


class OpenRosaSubmission(db.Model):
    __tablename__ = "openrosa_submissions"
    __table_args__ = (Index("ix_openrosa_submissions_user_state", "user_id", "state"),)

    instance_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    form_id: Mapped[str] = mapped_column(String(64))
    form_version: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    device_id: Mapped[str] = mapped_column(String(128))
    xml_hash: Mapped[str] = mapped_column(String(64))
    xml: Mapped[str] = mapped_column(Text)
    deprecated_id: Mapped[str | None] = mapped_column(String(100), index=True)
    household_id: Mapped[str | None] = mapped_column(String(36), index=True)
    revision: Mapped[int | None]  # the household's revision this submission last wrote
    base_revision: Mapped[int | None]  # what the submission was based on (see ``submissions.base_of``)
    state: Mapped[str] = mapped_column(String(16))
    result: Mapped[str | None] = mapped_column(String(16))
    files: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # filename → sha256, or None until it arrives
    message: Mapped[str] = mapped_column(Text, default="")
    errors: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
