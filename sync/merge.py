"""Three-way merge of household records (pure: no Flask, no database).

A phone edits the revision it last saw (``base``) while the server may have
moved on (``server``). ``merge(base, server, client)`` combines the two edits
field by field:

* a field changed on one side only takes that side's value;
* a field changed on both sides to the same value is simply that value;
* a field changed on both sides to different values is a *conflict*: a
  deterministic winner is kept and the losing value is reported so that it can
  be stored and reviewed.

The units of the merge are the record's top-level fields, except:

* ``status_dates`` merges stage by stage (``status_dates.started``…);
* ``photos`` merges photo by photo, keyed by hash (``photos.<sha256>``): a photo
  added on either side is kept, one removed on either side is removed; the
  base's photos keep their order, those added follow by ``taken_at``;
* ``location`` and ``funding`` merge as a whole (latitude from one phone and
  longitude from another would be a point nobody measured);
* ``captured_at`` takes the later of the two and is never a conflict.

Winners, chosen from the data only (so the outcome does not depend on which
phone synced first): for ``status`` the further stage wins (status never moves
backwards by a merge); for every other unit the side that changed it later
wins, ties going to the larger value in canonical JSON. "Later" is per unit,
never the whole record's ``captured_at``: the client changed its units at its
``captured_at``; the server's units each carry the time of the edit that gave
them their value (``server_times``, which the service keeps with every
revision, see :func:`changed_at`). Every unit then behaves as a
last-writer-wins register over the edits that changed it, so a set of edits
of one base ends in the same record whatever order the phones sync in. When
both sides set a unit to the same value, its time becomes the later of the
two, for the same reason.

If merging ``status`` and ``status_dates`` separately would give an
inconsistent pair (dates out of stage order, the current stage's date
missing), the pair is taken whole from the side whose ``status`` won (on a
tie, the side that changed the pair later).

Unit times are kept sparse: a unit missing from a times map changed at the
record's own ``captured_at``.

Records are canonical JSON dicts (the form ``schemas.household.canonical``
produces): dates and times are ISO strings.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from schemas.household import STATUSES, current_status_errors, stage_order_errors

SERVER = "server"
CLIENT = "client"

# Fields merged as one value.
WHOLE_FIELDS = (
    "household_head", "ethnicity", "category", "members", "national_id", "village",
    "declared_commune", "declared_set", "support_type", "location", "funding", "note",
)
STATUS_RANK = {status: rank for rank, status in enumerate(STATUSES)}  # withdrawn ranks last
_MISSING = None  # an absent key merges like a null value
_NEVER = datetime.min.replace(tzinfo=UTC)  # an unreadable time sorts before every readable one


@dataclass(frozen=True)
class FieldConflict:
    """One unit changed differently on both sides."""

    path: str
    base: Any
    server: Any
    client: Any
    kept: str  # SERVER or CLIENT

    @property
    def kept_value(self) -> Any:
        return self.server if self.kept == SERVER else self.client

    @property
    def lost_value(self) -> Any:
        return self.client if self.kept == SERVER else self.server


@dataclass
class MergeResult:
    record: dict[str, Any]
    conflicts: list[FieldConflict] = field(default_factory=list)
    client_changed: list[str] = field(default_factory=list)
    server_changed: list[str] = field(default_factory=list)
    times: dict[str, str] = field(default_factory=dict)  # when each unit of ``record`` last changed (sparse)

    @property
    def outcome(self) -> str:
        """``conflict`` when any unit conflicted, else ``merged``."""
        return "conflict" if self.conflicts else "merged"


def status_rank(status: str | None) -> int:
    return STATUS_RANK.get(status or "", -1)


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _instant(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _order(time: str | None, value: Any) -> tuple[datetime, str]:
    """How a unit's value ranks against another side's: later change first, then larger value."""
    return _instant(time) or _NEVER, _canon(value)


def later_side(server: Mapping[str, Any], client: Mapping[str, Any]) -> str:
    """Which record was captured later (SERVER on a tie or an unreadable time)."""
    s, c = _instant(server.get("captured_at")), _instant(client.get("captured_at"))
    if s is not None and c is not None and c > s:
        return CLIENT
    return SERVER


class _Merger:
    def __init__(self, base: Mapping[str, Any], server: Mapping[str, Any], client: Mapping[str, Any],
                 server_times: Mapping[str, str]) -> None:
        self.base, self.server, self.client = base, server, client
        self.server_times = server_times
        self.client_time: str | None = client.get("captured_at")
        self.times: dict[str, str | None] = {}
        self.result = MergeResult(record={})

    def server_time(self, path: str) -> str | None:
        """When the server's value of this unit was set (its record's time unless kept apart)."""
        return self.server_times.get(path) or self.server.get("captured_at")

    def winner(self, path: str, server_value: Any, client_value: Any) -> str:
        """The deterministic winner of a conflict on an ordinary unit: the later change."""
        server = _order(self.server_time(path), server_value)
        return CLIENT if _order(self.client_time, client_value) > server else SERVER

    def unit(self, path: str, base: Any, server: Any, client: Any, chooser: Any = None) -> Any:
        """Merge one unit; returns the merged value and records what happened, and when."""
        b, s, c = _canon(base), _canon(server), _canon(client)
        if s != b:
            self.result.server_changed.append(path)
        if c != b:
            self.result.client_changed.append(path)
        if c == b:
            value, kept = server, SERVER
        elif c == s:  # the same value from both sides: it holds from the later of the two changes
            self.times[path] = max(self.server_time(path), self.client_time, key=lambda t: _order(t, None))
            return server
        elif s == b:
            value, kept = client, CLIENT
        else:
            kept = (chooser or self.winner)(path, server, client)
            self.result.conflicts.append(FieldConflict(path, base, server, client, kept))
            value = server if kept == SERVER else client
        if kept == CLIENT:
            self.times[path] = self.client_time
        elif path in self.server_times or s != "null" or b != "null":
            self.times[path] = self.server_time(path)
        return value

    def status_winner(self, path: str, server: Any, client: Any) -> str:
        rs, rc = status_rank(server), status_rank(client)
        if rs != rc:
            return CLIENT if rc > rs else SERVER
        return self.winner(path, server, client)

    def run(self) -> MergeResult:
        base, server, client = self.base, self.server, self.client
        out = self.result.record
        out["id"] = server.get("id", client.get("id"))
        for name in WHOLE_FIELDS:
            value = self.unit(name, base.get(name, _MISSING), server.get(name, _MISSING), client.get(name, _MISSING))
            if value is not None or name in server or name in client:
                out[name] = value
        out["status"] = self.unit("status", base.get("status"), server.get("status"), client.get("status"),
                                  self.status_winner)
        out["status_dates"] = self.status_dates()
        out["photos"] = self.photos()
        out["captured_at"] = self.captured_at()
        self.keep_status_consistent()
        self.result.times = sparse_times(self.times, out.get("captured_at"))
        return self.result

    def status_dates(self) -> dict[str, Any]:
        b, s, c = (r.get("status_dates") or {} for r in (self.base, self.server, self.client))
        merged: dict[str, Any] = {}
        for stage in STATUSES:
            if stage not in b and stage not in s and stage not in c:
                continue
            value = self.unit(f"status_dates.{stage}", b.get(stage), s.get(stage), c.get(stage))
            if value is not None:
                merged[stage] = value
        return merged

    def photos(self) -> list[dict[str, Any]]:
        b, s, c = ({p["sha256"]: p for p in r.get("photos") or []} for r in (self.base, self.server, self.client))
        order = list(s) + [h for h in c if h not in s] + [h for h in b if h not in s and h not in c]
        merged = []
        for sha in order:
            value = self.unit(f"photos.{sha}", b.get(sha), s.get(sha), c.get(sha))
            if value is not None:
                merged.append(value)
        # An order of the data alone: the base's photos where they were, those added by when they were taken.
        place = {sha: i for i, sha in enumerate(b)}
        return sorted(merged, key=lambda p: (place.get(p["sha256"], len(place)), p.get("taken_at") or "",
                                             p["sha256"]))

    def captured_at(self) -> Any:
        s, c = self.server.get("captured_at"), self.client.get("captured_at")
        return c if later_side(self.server, self.client) == CLIENT else s

    def pair_side(self) -> str:
        """Whose status/date pair to keep whole: the status winner's; on equal statuses the later change."""
        status = self.result.record.get("status")
        if status != self.client.get("status"):
            return SERVER
        if status != self.server.get("status"):
            return CLIENT
        paths = [p for p in self.result.server_changed if p == "status" or p.startswith("status_dates.")]
        server_latest = max((self.server_time(p) for p in paths), key=lambda t: _order(t, None), default=None)
        server_pair = self.server.get("status_dates") or {}
        client_pair = self.client.get("status_dates") or {}
        return CLIENT if _order(self.client_time, client_pair) > _order(server_latest, server_pair) else SERVER

    def keep_status_consistent(self) -> None:
        out = self.result.record
        if not status_pair_errors(out.get("status"), out.get("status_dates") or {}):
            return
        kept = self.pair_side()
        side = self.server if kept == SERVER else self.client
        merged = out.get("status_dates") or {}
        out["status_dates"] = dict(side.get("status_dates") or {})
        for stage in STATUSES:
            path = f"status_dates.{stage}"
            if out["status_dates"].get(stage) != merged.get(stage):
                self.times[path] = self.server_time(path) if kept == SERVER else self.client_time
        # Replace the per-stage conflicts by one on the whole pair.
        self.result.conflicts = [f for f in self.result.conflicts if not f.path.startswith("status_dates.")]
        self.result.conflicts.append(FieldConflict(
            "status_dates", self.base.get("status_dates") or {}, self.server.get("status_dates") or {},
            self.client.get("status_dates") or {}, kept,
        ))


def status_pair_errors(status: str | None, dates: Mapping[str, Any]) -> list[str]:
    """The schema's status/date rules, on canonical (string) dates."""
    try:
        parsed = {k: date.fromisoformat(v) for k, v in dates.items() if v is not None}
    except (TypeError, ValueError):
        return ["unreadable date"]
    return stage_order_errors(parsed) + current_status_errors(status, parsed)


def merge(
    base: Mapping[str, Any], server: Mapping[str, Any], client: Mapping[str, Any],
    server_times: Mapping[str, str] | None = None,
) -> MergeResult:
    """Merge ``client``'s edit of ``base`` into ``server`` (all canonical records).

    ``server_times`` says when each unit of ``server`` last changed (sparse,
    as :func:`changed_at` gives it; missing units changed at the server
    record's ``captured_at``). Pass ``base={}`` when the client has no base:
    every field both sides hold differently is then a conflict.
    """
    return _Merger(base, server, client, server_times or {}).run()


# ---- when each unit last changed ----------------------------------------------

def units(record: Mapping[str, Any] | None) -> dict[str, Any]:
    """Every merge unit a record holds, by path, with its value."""
    record = record or {}
    out = {name: record[name] for name in WHOLE_FIELDS if name in record}
    if "status" in record:
        out["status"] = record["status"]
    for stage, value in (record.get("status_dates") or {}).items():
        out[f"status_dates.{stage}"] = value
    for photo in record.get("photos") or []:
        out[f"photos.{photo['sha256']}"] = photo
    return out


def sparse_times(times: Mapping[str, str | None], captured_at: str | None) -> dict[str, str]:
    """Unit times without those equal to the record's own ``captured_at`` (the default)."""
    return {path: time for path, time in sorted(times.items()) if time and time != captured_at}


def changed_at(
    previous: Mapping[str, Any] | None, previous_times: Mapping[str, str] | None, record: Mapping[str, Any],
) -> dict[str, str]:
    """When each unit of ``record`` last changed, when it replaces ``previous`` whole.

    A unit whose value differs from ``previous`` (or that ``previous`` lacks)
    changed at ``record``'s ``captured_at``; any other unit keeps its time.
    Units removed keep a time too, so a later merge knows when they went.
    Sparse: see :func:`sparse_times`.
    """
    before, after = units(previous), units(record)
    old_times = previous_times or {}
    default = (previous or {}).get("captured_at")
    now = record.get("captured_at")
    times: dict[str, str | None] = {}
    for path in set(before) | set(after) | set(old_times):
        if previous is None or _canon(before.get(path)) != _canon(after.get(path)):
            times[path] = now
        else:
            times[path] = old_times.get(path) or default
    return sparse_times(times, now)


# ---- addressing merge units (conflict review) --------------------------------

def get_path(record: Mapping[str, Any], path: str) -> Any:
    """The value of a merge unit (``status_dates.started``, ``photos.<sha>``…)."""
    head, _, rest = path.partition(".")
    if not rest:
        return record.get(head)
    if head == "status_dates":
        return (record.get("status_dates") or {}).get(rest)
    if head == "photos":
        return next((p for p in record.get("photos") or [] if p.get("sha256") == rest), None)
    raise KeyError(path)


def set_path(record: Mapping[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``record`` with one merge unit set (None removes it)."""
    out = dict(record)
    head, _, rest = path.partition(".")
    if not rest:
        out[head] = value
    elif head == "status_dates":
        dates = dict(out.get("status_dates") or {})
        if value is None:
            dates.pop(rest, None)
        else:
            dates[rest] = value
        out["status_dates"] = dates
    elif head == "photos":
        photos = [p for p in out.get("photos") or [] if p.get("sha256") != rest]
        if value is not None:
            existing = [p.get("sha256") for p in out.get("photos") or []]
            position = existing.index(rest) if rest in existing else len(photos)
            photos.insert(position, value)
        out["photos"] = photos
    else:
        raise KeyError(path)
    return out
