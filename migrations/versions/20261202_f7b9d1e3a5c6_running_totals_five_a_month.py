"""Running totals five times a month (the 1st, 7th, 13th, 19th and 25th), no two more than seven days apart.

With anchors on the 1st, 8th, 15th and 22nd, the ten days from the 22nd to
the 1st made a report on the 26th read five days of day rows beside its
running totals. Each set's running totals (``c`` rows) are put at the new
anchors of its span, the first summed from the month and day rows before
it, each next from the one before and the days between, as
``tracker.progress.cumulative.widen`` does. The day and month rows, the
stored days and the journal do not depend on the anchors and stay. On
PostgreSQL the table is then clustered again: the new rows were appended
after the old ones' dead copies, out of the key order reports read in.

Revision ID: f7b9d1e3a5c6
Revises: e6a8c0d2f4b5
Create Date: 2026-12-02 06:00:00.000000

"""
from datetime import date

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f7b9d1e3a5c6'
down_revision = 'e6a8c0d2f4b5'
branch_labels = None
depends_on = None

NEW, OLD = (1, 7, 13, 19, 25), (1, 8, 15, 22)
VALUES = ("present", "households", "started", "completed", "handed_over", "in_window", "withdrawn", "needs_review",
          "fund_central_budget", "fund_local_budget", "fund_social_fund", "fund_enterprise", "fund_household",
          "fund_other")
KEY = ("boundary_set_id", "grain", "day", "commune_code", "support_type")
tallies = sa.table("commune_tallies", *(sa.column(name, sa.Integer) for name in ("boundary_set_id", *VALUES)),
                   sa.column("grain", sa.String), sa.column("day", sa.Date), sa.column("commune_code", sa.String),
                   sa.column("support_type", sa.String))
states = sa.table("tally_states", sa.column("boundary_set_id", sa.Integer), sa.column("cumulative_from", sa.Date),
                  sa.column("cumulative_to", sa.Date))


def upgrade():
    _move_anchors(NEW)
    _lay_out()


def downgrade():
    _move_anchors(OLD)
    _lay_out()


def _lay_out() -> None:
    """On PostgreSQL, the table rewritten in key order (as the migration d5f7b9c1e3a4 left it), the old rows gone."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CLUSTER commune_tallies USING pk_commune_tallies")


def _anchor_of(day: date, anchors: tuple[int, ...]) -> date:
    return day.replace(day=max(a for a in anchors if a <= day.day))


def _next(anchor: date, anchors: tuple[int, ...]) -> date:
    later = [a for a in anchors if a > anchor.day]
    if later:
        return anchor.replace(day=later[0])
    return date(anchor.year + anchor.month // 12, anchor.month % 12 + 1, 1)


def _move_anchors(anchors: tuple[int, ...]) -> None:
    bind = op.get_bind()
    spans = bind.execute(sa.select(states.c.boundary_set_id, states.c.cumulative_from, states.c.cumulative_to)
                         .where(states.c.cumulative_from.is_not(None))).all()
    for set_id, first, last in spans:
        bind.execute(sa.delete(tallies).where(tallies.c.boundary_set_id == set_id, tallies.c.grain == "c"))
        first, last = _anchor_of(first, anchors), _anchor_of(last, anchors)
        month = first.replace(day=1)
        _insert(bind, set_id, first, ((tallies.c.grain == "m") & (tallies.c.day < month))
                | ((tallies.c.grain == "d") & (tallies.c.day >= month) & (tallies.c.day < first)))
        before, anchor = first, _next(first, anchors)
        while anchor <= last:
            _insert(bind, set_id, anchor, ((tallies.c.grain == "c") & (tallies.c.day == before))
                    | ((tallies.c.grain == "d") & (tallies.c.day >= before) & (tallies.c.day < anchor)))
            before, anchor = anchor, _next(anchor, anchors)
        bind.execute(sa.update(states).where(states.c.boundary_set_id == set_id)
                     .values(cumulative_from=first, cumulative_to=last))


def _insert(bind, set_id: int, anchor: date, where) -> None:
    """The ``c`` rows at ``anchor``: per commune and type, the sum of the rows ``where`` picks."""
    rows = (sa.select(sa.literal(set_id), sa.literal("c"), sa.literal(anchor, type_=sa.Date), tallies.c.commune_code,
                      tallies.c.support_type, *(sa.func.sum(tallies.c[name]) for name in VALUES))
            .where(tallies.c.boundary_set_id == set_id, where)
            .group_by(tallies.c.commune_code, tallies.c.support_type))
    bind.execute(sa.insert(tallies).from_select([*KEY, *VALUES], rows))
