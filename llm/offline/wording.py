"""How amounts, dates and quotes are written in the offline model's replies."""

from __future__ import annotations

from datetime import date
from typing import Any

__all__ = ["as_date", "money", "nice_date", "trim"]


def money(amount: float | int | None) -> str:
    """`$1,234.50`; a missing amount reads as `$0.00`."""
    return f"${float(amount or 0):,.2f}"


def trim(text: str, limit: int) -> str:
    """`text` on one line, cut to at most `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def as_date(value: Any) -> date | None:
    """A date, or the date an ISO string starts with; None when it is neither."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def nice_date(value: Any) -> str:
    """`March 1, 2026`; anything that is not a date is written as it is."""
    parsed = as_date(value)
    return f"{parsed:%B} {parsed.day}, {parsed.year}" if parsed else str(value)
