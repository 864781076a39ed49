"""Column types that behave the same on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC without a zone; always returns aware UTC datetimes.

    SQLite has no time zones, so every instant is normalised to UTC on the
    way in and marked UTC on the way out; comparisons then agree on both
    databases.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def insert_into(table: Table, dialect: str) -> Any:
    """An INSERT into ``table`` that can skip or merge a row already there (``on_conflict_do_…``), on either database."""
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
