"""The rows of the households export, streamed from the database in chunks.

One query of plain columns (the record fields the sheet shows are stored
as columns of the revision: taking them out of the JSON record cost
PostgreSQL more than the rest of the query), read ``CHUNK_ROWS`` at a time
(a server-side cursor on PostgreSQL), and one tuple per household with its
status and dates as of ``as_of``. Labels and unit names are looked up once per export, not per row.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import String, select, type_coerce

from sync.vocabulary import FUNDING_SOURCES, STAGES, TZ
from tracker.boundaries.models import AdminUnit
from tracker.exports.service import (
    HOUSEHOLD_COLUMNS,
    LABELS,
    header_block,
    mask_national_id,
    page_header,
    report_file,
)
from tracker.exports.writers import primed
from tracker.extensions import db
from tracker.households.models import HouseholdRevision, RevisionAssignment
from tracker.progress.pace import status_on
from tracker.progress.service import ReportContext, context_from_args, known_filter

CHUNK_ROWS = 5000
MADE_VALUES = 4096
DATED = STAGES + ("withdrawn",)


# Dates and times come back as the driver gives them (PostgreSQL: date and datetime objects, SQLite: ISO text)
# and are read by _day and _instant: the ORM's own conversion (a regular expression and a type decorator
# per value) cost more than the database's whole read at 334,000 rows.
_Raw = String()


def _day(value: Any) -> date:
    return date.fromisoformat(value) if value.__class__ is str else value


def _instant(value: Any) -> datetime:
    """A stored UTC instant (naive) as Vietnamese local time."""
    if value.__class__ is str:
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC).astimezone(TZ)


def household_query(ctx: ReportContext, filters: dict[str, Any]) -> Any:
    hr, ra = HouseholdRevision, RevisionAssignment
    query = (
        select(hr.household_id, ra.commune_code, hr.village, hr.household_head, hr.ethnicity, hr.category,
               hr.members, hr.national_id, hr.support_type,
               *(type_coerce(getattr(hr, f"{s}_on"), _Raw) for s in DATED),
               *(getattr(hr, f"fund_{s}") for s in FUNDING_SOURCES),
               hr.lat, hr.lon, hr.accuracy_m, ra.flag, ra.needs_review, hr.revision,
               type_coerce(hr.received_at, _Raw))
        .join(ra, (ra.revision_id == hr.id) & (ra.boundary_set_id == ctx.boundary_set.id))
        .where(known_filter(ctx.known_at))
        .order_by(ra.commune_code, hr.household_id)
    )
    if ctx.scope is not None:
        query = query.where(ra.commune_code.in_(sorted(ctx.scope)))
    if filters.get("commune"):
        query = query.where(ra.commune_code == filters["commune"])
    if filters.get("support_type"):
        query = query.where(hr.support_type == filters["support_type"])
    return query.execution_options(yield_per=CHUNK_ROWS)


def _unit_names(ctx: ReportContext) -> dict[str | None, tuple[str, str | None]]:
    """``{commune code: (commune name, district name)}`` of the report's set."""
    names: dict[tuple[str, str], tuple[str, str | None]] = {}
    for code, name, level, parent in db.session.execute(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.level, AdminUnit.parent_code)
        .where(AdminUnit.boundary_set_id == ctx.boundary_set.id)
    ):
        names[(level, code)] = (name, parent)
    return {code: (name, names.get(("district", parent or ""), (None, None))[0])
            for (level, code), (name, parent) in names.items() if level == "commune"}


def household_rows(ctx: ReportContext, filters: dict[str, Any], lang: str, mask_ids: bool) -> Iterator[tuple[Any, ...]]:
    """One tuple per household known at ``known_at`` (HOUSEHOLD_COLUMNS' order), as of ``as_of``."""
    units = _unit_names(ctx)
    wanted = filters.get("status")
    as_of = ctx.as_of
    # A connection of the export's own: the rows are read while the response
    # streams, after the request's session has been removed at teardown
    # (which would close a PostgreSQL server-side cursor under it).
    with db.engine.connect() as connection:
        yield from _rows(connection.execute(household_query(ctx, filters)), units, lang, mask_ids, wanted, as_of)


class _Made(dict):  # type: ignore[type-arg]
    """``made[raw]`` is ``make(raw)``, made once per raw value (None stays None).

    Most rows share their days and their receipt time with others (a day of
    work, a push of many households). Emptied when full: the rows come commune
    by commune, so the values worth keeping are the recent ones.
    """

    def __init__(self, make: Callable[[Any], Any]) -> None:
        super().__init__()
        self.make = make
        self[None] = None

    def __missing__(self, raw: Any) -> Any:
        if len(self) >= MADE_VALUES:
            self.clear()
            self[None] = None
        value = self[raw] = self.make(raw)
        return value


def _rows(result: Any, units: dict[str | None, tuple[str, str | None]], lang: str, mask_ids: bool,
          wanted: str | None, as_of: date) -> Iterator[tuple[Any, ...]]:
    categories, supports = LABELS["category"][lang], LABELS["support_type"][lang]
    statuses, yes = LABELS["status"][lang], LABELS["yes"][lang]
    day, instant = _Made(_day).__getitem__, _Made(_instant).__getitem__
    shown = _Made(lambda d: d if d <= as_of else None).__getitem__  # a day after as_of is not shown
    first_date, first_fund = 9, 9 + len(DATED)
    first_rest = first_fund + len(FUNDING_SOURCES)
    for row in result:
        dates = list(map(day, row[first_date:first_fund]))
        status = status_on(dates, as_of)
        if status is None or (wanted and status != wanted):
            continue
        household_id, code, village, head, ethnicity, category, members, national_id, support = row[:first_date]
        funds = row[first_fund:first_rest]
        lat, lon, accuracy, flag, review, revision, received = row[first_rest:]
        commune, district = units.get(code, (None, None))
        yield (
            household_id, code, commune, district, village, head, ethnicity, categories.get(category, category),
            members, mask_national_id(national_id) if mask_ids else national_id,
            supports.get(support, support), statuses.get(status, status),
            *map(shown, dates), *funds, sum(funds),
            lat, lon, accuracy, flag, yes[bool(review)],
            revision, instant(received),
        )


HOUSEHOLDS_TITLE = ("Danh sách hộ được hỗ trợ nhà ở", "Households supported with housing")


def households_file(
    args: dict[str, Any], scope: frozenset[str] | None, mask_ids: bool, fmt: str,
    watch: Callable[[Iterator[Any]], Iterator[Any]] | None = None,
) -> tuple[Iterator[bytes], str, str]:
    """The households list as a streamed file ``(chunks, mimetype, file name)``: the API and the pages use it.

    ``watch`` wraps the rows on their way to the writer (an export job counts them there).
    """
    ctx = context_from_args(args, scope)
    lang = args["lang"]
    filters = {k: args[k] for k in ("commune", "status", "support_type") if args.get(k)}
    described = ", ".join(f"{k}={v}" for k, v in filters.items())
    extra = [("Lọc", "Filters", described)] if described else []
    header = header_block(ctx, HOUSEHOLDS_TITLE, lang, extra)
    rows = primed(household_rows(ctx, filters, lang, mask_ids=mask_ids))
    if watch is not None:
        rows = watch(rows)
    sheet = "Hộ gia đình" if lang == "vi" else "Households"
    return report_file(fmt, f"households-{ctx.as_of.isoformat()}", sheet, header, HOUSEHOLD_COLUMNS, rows, lang,
                       page_header(ctx, HOUSEHOLDS_TITLE, lang))
