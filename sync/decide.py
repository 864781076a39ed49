"""What to do with one pushed record, given what the server holds (pure).

The service fetches the server's state, calls :func:`decide` and writes what
it says; nothing here touches the database.

* no record yet → ``created`` (a ``base_revision`` for an unknown id is refused);
* the same content as now, or a resend of a push already taken → ``unchanged``;
* ``base_revision`` equal to the server's → ``updated``;
* an older ``base_revision`` (or none) → three-way merge against the stored
  base → ``merged`` or ``conflict`` (or ``unchanged`` when nothing changes,
  not even when a unit last changed: see ``sync.merge``);
* status never moves back through the stages unless the caller may do so.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.merge import FieldConflict, merge, sparse_times, status_rank
from sync.records import content_hash, content_of

CREATED, UPDATED, UNCHANGED, MERGED, CONFLICT, REJECTED = (
    "created", "updated", "unchanged", "merged", "conflict", "rejected",
)
WRITES = (CREATED, UPDATED, MERGED, CONFLICT)


@dataclass
class Current:
    """The server's state of one household."""

    revision: int
    data: dict[str, Any]
    content_hash: str
    push_hashes: frozenset[str] = frozenset()
    base_data: dict[str, Any] | None = None  # the client's base revision, when older
    times: dict[str, str] | None = None  # when each unit of ``data`` last changed (``sync.merge``)


@dataclass
class Decision:
    result: str
    record: dict[str, Any] | None = None  # what to store (a new revision), if anything
    hash: str = ""
    conflicts: list[FieldConflict] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    times: dict[str, str] | None = None  # a merge's unit times; None: the ledger derives them

    @property
    def writes(self) -> bool:
        return self.result in WRITES


def stored_form(record: Mapping[str, Any]) -> dict[str, Any]:
    """A revision's ``data``: the canonical record without ``base_revision``."""
    return {"id": record["id"], **content_of(record)}


def push_hash(base_revision: int | None, record_hash: str) -> str:
    """Identifies one push of one record: its base and its content."""
    return hashlib.sha256(f"{base_revision}:{record_hash}".encode()).hexdigest()


def decide(
    client: Mapping[str, Any],
    client_hash: str,
    current: Current | None,
    *,
    may_regress: bool = False,
) -> Decision:
    """``client`` is the canonical pushed record; ``client_hash`` its content hash."""
    base = client.get("base_revision")
    if current is None:
        if base is not None:
            return Decision(REJECTED, errors={"base_revision": [
                "The server holds no household with this id; push it with base_revision null."]})
        return Decision(CREATED, stored_form(client), client_hash)
    # An older base merges even when the content is the server's: the units it
    # changed may hold from a later time now (see ``sync.merge``).
    same = client_hash == current.content_hash and (base is None or base >= current.revision)
    if same or push_hash(base, client_hash) in current.push_hashes:
        return Decision(UNCHANGED)
    if base is not None and base > current.revision:
        return Decision(REJECTED, errors={"base_revision": [
            f"Revision {base} is newer than the server's revision {current.revision}."]})
    if base == current.revision:
        decision = Decision(UPDATED, stored_form(client), client_hash)
    else:
        result = merge(current.base_data or {}, current.data, stored_form(client), current.times)
        if not result.client_changed:
            return Decision(UNCHANGED)
        merged_hash = content_hash(result.record)
        same_times = result.times == sparse_times(current.times or {}, current.data.get("captured_at"))
        if merged_hash == current.content_hash and not result.conflicts and same_times:
            return Decision(UNCHANGED)
        # With conflicts a revision is written even when the server's values all
        # won: it records the push and the losing values it brought.
        decision = Decision(result.outcome, result.record, merged_hash, result.conflicts, times=result.times)
    errors = regression_errors(current.data.get("status"), decision.record, may_regress)
    if errors:
        return Decision(REJECTED, errors=errors)
    return decision


def regression_errors(server_status: str | None, record: Mapping[str, Any] | None, may_regress: bool) -> dict:
    if may_regress or record is None:
        return {}
    new = record.get("status")
    if status_rank(new) < status_rank(server_status):
        return {"status": [f"Status cannot move back from '{server_status}' to '{new}' (a manager can do this)."]}
    return {}


def out_of_scope(scope: frozenset[str] | None, codes: Iterable[str | None]) -> bool:
    """True when a caller limited to ``scope`` may not touch a record with these communes."""
    return scope is not None and not any(code in scope for code in codes if code)
