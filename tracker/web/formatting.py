"""Numbers, money and dates as people in Vietnam write them (pure, no Flask).

Vietnamese: 1.234.567 ₫, 88,24 %, 16/04/2025. English keeps its own digit
grouping (1,234,567 ₫) but the same day/month/year dates, since its readers
work in Vietnam too.
"""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from babel.numbers import format_decimal as _decimal

from sync.vocabulary import TZ

NBSP = "\u00a0"


def number(value: int | float | None, locale: str = "vi", digits: int = 0) -> str:
    if value is None:
        return "–"
    return _number(value, locale, digits)


@lru_cache(maxsize=32_768)
def _number(value: int | float, locale: str, digits: int) -> str:
    """Babel's formatting, remembered: a national page writes some 100,000 figures, most of them seen before."""
    pattern = "#,##0" if digits == 0 else "#,##0." + "0" * digits
    return _decimal(value, format=pattern, locale=locale)


def vnd(value: int | None, locale: str = "vi") -> str:
    """Whole đồng with grouping and the ₫ sign after: ``1.234.567 ₫``."""
    if value is None:
        return "–"
    return f"{number(int(value), locale)}{NBSP}₫"


def percent(value: float | None, locale: str = "vi") -> str:
    """A percentage already on a 0–100 scale, two decimals: ``88,24 %``."""
    if value is None:
        return "–"
    return f"{number(value, locale, 2)}{NBSP}%"


def day(value: date | datetime | str | None) -> str:
    """``16/04/2025``; datetimes are first put in Vietnam's time zone."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.astimezone(TZ) if value.tzinfo else value
    return value.strftime("%d/%m/%Y")


def moment(value: datetime | None) -> str:
    """``16/04/2025 14:05`` in Vietnam's time zone."""
    if value is None:
        return "–"
    if value.tzinfo is not None:
        value = value.astimezone(TZ)
    return value.strftime("%d/%m/%Y %H:%M")


def short_day(value: date) -> str:
    return value.strftime("%d/%m")
