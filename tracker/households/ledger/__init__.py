"""The household ledger: the one way a household changes.

Every write to a household goes through here, whoever makes it: a phone's
push, a bulk import, the demo, a conflict resolution, a manager's review
decision, a re-assignment under a boundary set. The callers decide *what*
changes (validation, the three-way merge, scope); the ledger does the
writing, always the same way and in the caller's transaction:

1. :func:`hold` locks the households (``locks``) and reads their current
   revisions; callers decide on what it returns, never on an earlier read;
2. :func:`append` takes the decided :class:`Change` list and, in bulk,
   applies the standing manager decisions to each assignment, allocates the
   change numbers, stamps the receipt time, inserts new households, marks
   the previous revisions superseded, appends the new revisions with their
   assignment under every boundary set, keeps the losing values of a
   conflict, and writes one audit event per change;
3. :func:`decide_assignment` takes a manager's decision (confirm or move a
   commune assignment), which lasts: :func:`append` applies it to every
   later revision (``standing``) until a manager decides again;
4. :func:`reassign_set` recomputes every revision's assignment under one set
   (after its boundaries are loaded), in bulk (``reassign``).

No other module inserts into or updates ``households``,
``household_revisions`` or ``revision_assignments``; the conflicts a merge
leaves are recorded here too (``conflicts`` marks them resolved).

Why the receipt time is stamped where it is
-------------------------------------------
``known_at`` reports count the revisions with ``received_at <= known_at``
that were not superseded by then, and the figures of a report must be the
same when it is taken again later. That holds only if no revision stamped at
or before ``known_at`` commits after the report has read. :func:`append`
therefore stamps ``received_at`` (and the ``superseded_at`` of the previous
revisions) only after :func:`sequence.allocate` has locked the change
counter row, a lock held until the transaction commits: writers are
serialised from their stamp to their commit, so stamps follow commit order.
A report with an explicit ``known_at`` first calls :func:`settle`, which
waits for the writer holding the counter (if any) to commit; every revision
stamped at or before ``known_at`` is then visible, and any writer that
stamps afterwards stamps a later time. (The app servers' clocks must agree,
as they do on one host or under NTP.) Only the demo loader, which replays a
season of history, gives receipt times of its own.
"""
from __future__ import annotations

from tracker.households.ledger.clock import settle
from tracker.households.ledger.decisions import CONFIRM, MOVE, decide_assignment
from tracker.households.ledger.reassign import reassign_set
from tracker.households.ledger.standing import decision_json, standing_decisions
from tracker.households.ledger.write import Actor, Change, Held, append, hold

__all__ = [
    "CONFIRM", "MOVE", "Actor", "Change", "Held", "append", "decide_assignment", "decision_json", "hold",
    "reassign_set", "settle", "standing_decisions",
]
